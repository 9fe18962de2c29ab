"""The published follow-up: what an organization chooses to show the public about its walks."""
