"""The basemap: an MBTiles or PMTiles file served from the service's own origin, with the
MapLibre style every map of the web apps starts from."""
