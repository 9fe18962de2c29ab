"""GeoJSON map feeds for planners (RFC 7946), streamed from the database."""
