"""Pure geometry: GeoJSON <-> shapely, projection, grouping, hotspots, sun position.

No FastAPI, no database session here: everything is unit-testable on plain data.
"""
