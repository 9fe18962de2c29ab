"""Formats over the domains' reads: map feeds, OGC API, vector tiles, exports, Open311 and
the public follow-up."""
