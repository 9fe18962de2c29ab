"""Walks: planning, status moves, join codes and links, participants joining."""
