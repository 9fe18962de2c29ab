"""The OpenAPI 3.0 document of /ogc, written for OGC clients: GDAL reads the parameters of
each collection's items path (and pushes ``WHERE`` down only for declared ones), the CITE
suite checks the ``limit`` declaration, QGIS follows ``service-desc`` to it."""

from __future__ import annotations

from typing import Any

from api.outputs.ogc import crs
from api.outputs.ogc.service import Collection, property_params

LIMIT_MAX = 10_000
LIMIT_DEFAULT = 100


def _param(name: str, schema: dict[str, Any], description: str, **kw: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": description,
        "schema": schema,
        **kw,
    }


def parameters() -> dict[str, dict[str, Any]]:
    crs_enum = {"type": "string", "format": "uri", "enum": list(crs.supported())}
    return {
        "limit": _param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
            "The number of features in a page; larger values are clamped to the maximum.",
        ),
        "bbox": _param(
            "bbox",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            "minx,miny,maxx,maxy in bbox-crs (default CRS84: lon/lat).",
        ),
        "bbox-crs": _param("bbox-crs", crs_enum, "The CRS of bbox."),
        "crs": _param("crs", crs_enum, "The CRS of the returned geometries."),
        "datetime": _param(
            "datetime",
            {"type": "string"},
            "An instant, or an interval a/b with '..' for an open end (RFC 3339).",
        ),
        "filter": _param("filter", {"type": "string"}, "A CQL2 filter on the queryables."),
        "filter-lang": _param(
            "filter-lang",
            # cql-text: the pre-release name, which GDAL looks for before it pushes WHERE down
            {
                "type": "string",
                "enum": ["cql2-text", "cql2-json", "cql-text"],
                "default": "cql2-text",
            },
            "The language of filter (cql-text is an alias of cql2-text).",
        ),
        "filter-crs": _param("filter-crs", crs_enum, "The CRS of geometries in filter."),
        "cursor": _param("cursor", {"type": "string"}, "Where the page starts (from a next link)."),
        "featureId": {
            "name": "featureId",
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": "The feature's id.",
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _get(
    summary: str, operation: str, responses: dict[str, Any], parameters: list[Any] | None = None
) -> dict[str, Any]:
    """A path that answers GET only."""
    get: dict[str, Any] = {"summary": summary, "operationId": operation}
    if parameters is not None:
        get["parameters"] = parameters
    return {"get": {**get, "responses": responses}}


def _ok(description: str, media: str) -> dict[str, Any]:
    return {"200": {"description": description, "content": {media: {"schema": {"type": "object"}}}}}


def document(base: str, collections: list[Collection]) -> dict[str, Any]:
    """``base`` is the /ogc root URL as the client reached it."""
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage",
                      "responses": _ok("Links to the API", "application/json")}},
        "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformance",
                                 "responses": _ok("Implemented classes", "application/json")}},
        "/collections": {"get": {"summary": "Collections", "operationId": "getCollections",
                                 "responses": _ok("The collections", "application/json")}},
    }  # fmt: skip
    params = parameters()
    for c in collections:
        props = []
        for p in property_params(c):
            schema = p.schema()
            schema.pop("title", None)
            props.append(_param(p.name, schema, f"Only features whose {p.name} is this value."))
        paths[f"/collections/{c.id}"] = _get(
            f"{c.title}: description", f"describe-{c.id}", _ok("The collection", "application/json")
        )
        paths[f"/collections/{c.id}/items"] = {
            "get": {
                "summary": f"{c.title}: features",
                "operationId": f"get-{c.id}-items",
                "parameters": [
                    _ref(n)
                    for n in ("limit", "bbox", "bbox-crs", "datetime", "crs", "filter",
                              "filter-lang", "filter-crs", "cursor")
                ] + props,
                "responses": _ok("Features", "application/geo+json"),
            }
        }  # fmt: skip
        paths[f"/collections/{c.id}/items/{{featureId}}"] = _get(
            f"{c.title}: one feature", f"get-{c.id}-item",
            _ok("A feature", "application/geo+json"), [_ref("featureId"), _ref("crs")],
        )  # fmt: skip
        schema_type = "application/schema+json"
        paths[f"/collections/{c.id}/schema"] = _get(
            f"{c.title}: schema of the features", f"get-{c.id}-schema",
            _ok("JSON Schema of the features", schema_type),
        )  # fmt: skip
        paths[f"/collections/{c.id}/queryables"] = _get(
            f"{c.title}: queryables", f"get-{c.id}-queryables",
            _ok("JSON Schema of the queryables", schema_type),
        )  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "safewalk OGC API – Features",
            "version": "1.0.0",
            "description": "Observations, action items, areas and walks for desktop GIS. "
            "Authenticate with a personal access token as Bearer or as the Basic auth password.",
        },
        "servers": [{"url": base}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "parameters": params,
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }
