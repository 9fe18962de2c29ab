"""Areas: the organization's places, their geometry and import."""
