"""OGC API – Features (Parts 1, 2 and 3) over safewalk's layers, under ``/ogc``.

``router`` parses and authorizes, ``service`` builds the queries (features as JSON from the
database, streamed), ``cql2`` turns a parsed CQL2 filter into SQL, ``crs`` knows the output
coordinate systems, ``openapi`` writes the OpenAPI 3.0 document that GDAL and QGIS read.
"""
