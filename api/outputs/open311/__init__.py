"""Open311 GeoReport v2: the server for reporting apps and the client towards the case system."""
