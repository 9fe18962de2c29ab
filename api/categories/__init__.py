"""Categories: the organization's observation taxonomy."""
