"""Mapbox Vector Tiles of the OGC layers (observations, action items, areas), under /tiles."""
