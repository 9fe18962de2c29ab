"""Hotspots: the exact H3 rollups kept as observations change, and the hotspot map."""
