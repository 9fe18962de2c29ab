"""Observations: capture from offline phones, placement, plausibility, edits and moderation."""
