"""The /ogc routes: thin. They parse the OGC query parameters, authorize through the reader
policy (personal access tokens as Bearer or Basic password), and call the service."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from api.auth.readers_router import ReaderDep, enforce_reader_policy
from api.http.deps import SessionDep, feed_connection
from api.http.streaming import ClosingStreamingResponse
from api.outputs.maps.service import stream_collection
from api.outputs.ogc import cql2, crs, openapi
from api.outputs.ogc import service as ogc
from api.outputs.ogc.crs import BadParameter

router = APIRouter(prefix="/ogc", tags=["ogc"], dependencies=[Depends(enforce_reader_policy)])

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_SCHEMA = "http://www.opengis.net/def/rel/ogc/1.0/schema"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-operators",
]
ITEMS_PARAMS = {
    "limit", "bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang", "filter-crs",
    "cursor", "f",
}  # fmt: skip


def _root(request: Request) -> str:
    return str(request.url_for("ogc_landing"))


def _media(f: str | None) -> str:
    if f in (None, "", "geojson"):
        return GEOJSON
    if f == "json":
        return JSON
    raise BadParameter.at("f", "error.ogc_format", f=f)


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


@router.get("", name="ogc_landing")
def landing(request: Request, principal: ReaderDep) -> dict[str, Any]:
    root = _root(request)
    return {
        "title": "safewalk",
        "description": "Safety walks: observations, action items, areas and walks.",
        "links": [
            _link(root, "self", JSON, "This document"),
            _link(f"{root}/api", "service-desc", OPENAPI_30, "The API definition"),
            _link(f"{request.base_url}docs", "service-doc", "text/html", "Docs"),
            _link(f"{root}/conformance", "conformance", JSON, "Conformance classes"),
            _link(f"{root}/collections", "data", JSON, "Collections"),
        ],
    }


@router.get("/conformance")
def conformance(principal: ReaderDep) -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


@router.get(
    "/api",
    response_class=JSONResponse,
    responses={200: {"content": {OPENAPI_30: {"schema": {"type": "object"}}}}},
)
def api_document(request: Request, principal: ReaderDep, session: SessionDep) -> JSONResponse:
    cols = list(ogc.collections().values())
    return JSONResponse(openapi.document(_root(request), cols), media_type=OPENAPI_30)


def _collection_doc(
    request: Request, session: SessionDep, principal: ReaderDep, c: ogc.Collection
) -> dict[str, Any]:
    base = f"{_root(request)}/collections/{c.id}"
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "extent": ogc.extent(session, principal, c),
        "crs": list(crs.supported()),
        "storageCrs": crs.CRS84,
        "geometryType": c.geometry_type,
        "links": [
            _link(base, "self", JSON, c.title),
            _link(f"{base}/items", "items", GEOJSON, f"{c.title} as GeoJSON"),
            _link(f"{base}/queryables", REL_QUERYABLES, SCHEMA_JSON, "Queryables"),
            _link(f"{base}/schema", REL_SCHEMA, SCHEMA_JSON, "Schema of the features"),
            _link(f"{base}/schema?f=feature", "describedby", SCHEMA_JSON, "GeoJSON Feature schema"),
        ],
    }


@router.get("/collections")
def list_collections(request: Request, principal: ReaderDep, session: SessionDep) -> dict[str, Any]:
    root = _root(request)
    return {
        "links": [_link(f"{root}/collections", "self", JSON, "Collections")],
        "collections": [
            _collection_doc(request, session, principal, c) for c in ogc.collections().values()
        ],
        "crs": list(crs.supported()),
    }


@router.get("/collections/{cid}")
def get_collection(
    cid: str, request: Request, principal: ReaderDep, session: SessionDep
) -> dict[str, Any]:
    c = ogc.get_collection(cid)
    return _collection_doc(request, session, principal, c)


@router.get("/collections/{cid}/queryables", response_class=JSONResponse)
def queryables(
    cid: str, request: Request, principal: ReaderDep, session: SessionDep
) -> JSONResponse:
    c = ogc.get_collection(cid)
    return JSONResponse(ogc.queryables_schema(c, str(request.url)), media_type=SCHEMA_JSON)


@router.get("/collections/{cid}/schema", response_class=JSONResponse)
def schema(
    cid: str, request: Request, principal: ReaderDep, session: SessionDep, f: str | None = None
) -> JSONResponse:
    """Part 5 schema (flat properties); ``f=feature``: the same as a GeoJSON Feature schema."""
    c = ogc.get_collection(cid)
    if f not in (None, "", "feature"):
        raise BadParameter.at("f", "error.ogc_schema_feature")
    if f == "feature":
        doc = ogc.feature_schema(c, str(request.url))
    else:
        doc = ogc.queryables_schema(c, str(request.url), everything=True)
    return JSONResponse(doc, media_type=SCHEMA_JSON)


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return openapi.LIMIT_DEFAULT
    try:
        n = int(raw)
    except ValueError as exc:
        raise BadParameter.at("limit", "error.ogc_not_integer", raw=raw) from exc
    if n < 1:
        raise BadParameter.at("limit", "error.at_least_one")
    return min(n, openapi.LIMIT_MAX)  # larger values are clamped, as Part 1 permits


def _bbox(raw: str | None, bbox_crs: crs.OutputCrs) -> tuple[float, ...] | None:
    if raw is None:
        return None
    try:
        parts = [float(p) for p in raw.split(",")]
    except ValueError as exc:
        raise BadParameter.at("bbox", "error.ogc_bbox_count") from exc
    if len(parts) not in (4, 6) or not all(math.isfinite(p) for p in parts):
        raise BadParameter.at("bbox", "error.ogc_bbox_finite")
    a, b, c, d = parts if len(parts) == 4 else (parts[0], parts[1], parts[3], parts[4])
    if a > c or b > d:
        raise BadParameter.at("bbox", "error.ogc_bbox_order")
    if bbox_crs.srid == 4326:
        lon = (b, d) if bbox_crs.swap_axes else (a, c)
        lat = (a, c) if bbox_crs.swap_axes else (b, d)
        if not (-180 <= lon[0] <= 180 and -180 <= lon[1] <= 180 and -90 <= lat[0] <= lat[1] <= 90):
            raise BadParameter.at("bbox", "error.ogc_bbox_range")
    return crs.bbox_to_wgs84((a, b, c, d), bbox_crs)


@router.get("/collections/{cid}/items", response_class=StreamingResponse)
def items(
    cid: str,
    request: Request,
    principal: ReaderDep,
    session: SessionDep,
    limit: str | None = Query(default=None, description="1-10000 (default 100)"),
    bbox: str | None = Query(default=None),
    bbox_crs: str | None = Query(default=None, alias="bbox-crs"),
    datetime: str | None = Query(default=None),
    crs_: str | None = Query(default=None, alias="crs"),
    filter: str | None = Query(default=None),
    filter_lang: str | None = Query(default=None, alias="filter-lang"),
    filter_crs: str | None = Query(default=None, alias="filter-crs"),
    cursor: str | None = None,
    f: str | None = None,
) -> StreamingResponse:
    c = ogc.get_collection(cid)
    allowed = ITEMS_PARAMS | {p.name for p in ogc.property_params(c)}
    for name in request.query_params:
        if name not in allowed:
            raise BadParameter.at(name, "error.ogc_unknown_parameter", cid=cid)
    media = _media(f)
    if bbox_crs is not None and bbox is None:
        raise BadParameter.at("bbox-crs", "error.ogc_bbox_crs_alone")
    out_crs = crs.parse(crs_, "crs")
    parsed = None
    if filter is not None:
        parsed = cql2.parse(filter, filter_lang)
    elif filter_lang is not None:
        cql2.check_lang(filter_lang)
    q = ogc.ItemsQuery(
        limit=_limit(limit),
        cursor=cursor,
        bbox=_bbox(bbox, crs.parse(bbox_crs, "bbox-crs")),
        datetime=datetime,
        properties={p.name: request.query_params[p.name] for p in ogc.property_params(c)
                    if p.name in request.query_params},
        filter=parsed,
        filter_crs=crs.parse(filter_crs, "filter-crs") if filter_crs else None,
        crs=out_crs,
    )  # fmt: skip
    page = ogc.items_page(session, principal, c, q)
    self_url = str(request.url)
    links = [
        _link(self_url, "self", media, "This page"),
        _link(
            str(request.url.include_query_params(f="json" if media == GEOJSON else "geojson")),
            "alternate",
            JSON if media == GEOJSON else GEOJSON,
            "This page as " + ("JSON" if media == GEOJSON else "GeoJSON"),
        ),
        _link(f"{_root(request)}/collections/{c.id}", "collection", JSON, c.title),
    ]
    headers = {"Content-Crs": f"<{out_crs.uri}>", "X-Content-Type-Options": "nosniff"}
    if page.next_cursor:
        nxt = str(request.url.include_query_params(cursor=page.next_cursor))
        links.append(_link(nxt, "next", media, "Next page"))
        headers["Link"] = f'<{nxt}>; rel="next"; type="{media}"'
    body = stream_collection(
        feed_connection(request),
        [page.statement],
        {"numberMatched": page.number_matched, "links": links},
    )
    return ClosingStreamingResponse(body, media_type=media, headers=headers)


@router.get("/collections/{cid}/items/{fid}")
def item(
    cid: str,
    fid: str,
    request: Request,
    principal: ReaderDep,
    session: SessionDep,
    crs_: str | None = Query(default=None, alias="crs"),
    f: str | None = None,
) -> JSONResponse:
    c = ogc.get_collection(cid)
    media = _media(f)
    out_crs = crs.parse(crs_, "crs")
    feature = ogc.one_feature(session, principal, c, fid, out_crs)
    base = f"{_root(request)}/collections/{c.id}"
    feature["links"] = [
        _link(str(request.url), "self", media, "This feature"),
        _link(f"{base}/items/{fid}?f=json", "alternate", JSON, "This feature as JSON"),
        _link(base, "collection", JSON, c.title),
    ]
    return JSONResponse(feature, media_type=media, headers={"Content-Crs": f"<{out_crs.uri}>"})
