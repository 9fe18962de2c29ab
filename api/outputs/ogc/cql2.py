"""CQL2 filters (OGC API – Features Part 3): parsed by pygeofilter, translated here to
SQLAlchemy conditions that run on both databases.

Supported: Basic CQL2 (comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL) on the
collection's queryables, and S_INTERSECTS with BBOX, POINT, POLYGON (and the other WKT or
GeoJSON geometries). Anything else is a 400 problem that names the filter and what failed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from pygeofilter import ast, values
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, and_, not_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.core import dialect
from api.core.features import Property as Property
from api.outputs.ogc.crs import BadParameter, OutputCrs, geometry_to_wgs84
from api.privacy import sensitive

Filter = Any  # a pygeofilter AST node
TEXT_LANGS = ("cql2-text", "cql-text")  # GDAL sends the pre-release name
JSON_LANGS = ("cql2-json", "cql-json")
GEOMETRY = "geometry"


def _fail(key: str, **params: Any) -> BadParameter:
    return BadParameter.at("filter", key, **params)


def _normalise_json(node: Any) -> Any:
    """CQL2-JSON as the standard writes it, in the shapes pygeofilter 0.4 reads: a 3-argument
    ``between``, and ``bbox`` as a polygon (pygeofilter mislabels its corners)."""
    if isinstance(node, list):
        return [_normalise_json(n) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"} and isinstance(node["bbox"], list) and len(node["bbox"]) in (4, 6):
        b = node["bbox"]
        minx, miny, maxx, maxy = (
            (b[0], b[1], b[2], b[3]) if len(b) == 4 else (b[0], b[1], b[3], b[4])
        )
        return box(minx, miny, maxx, maxy).__geo_interface__
    out = {k: _normalise_json(v) for k, v in node.items()}
    args = out.get("args")
    if out.get("op") == "between" and isinstance(args, list) and len(args) == 3:
        out["args"] = [args[0], [args[1], args[2]]]
    return out


def check_lang(lang: str) -> str:
    lang = lang.strip().lower()
    if lang not in TEXT_LANGS + JSON_LANGS:
        raise BadParameter.at("filter-lang", "error.cql2_lang", lang=lang)
    return lang


def parse(text: str, lang: str | None) -> Filter:
    """Parse ``filter`` in ``filter-lang`` (default cql2-text); a 400 says where it failed."""
    lang = check_lang(lang or "cql2-text")
    # The parsers build a lark grammar and load dateparser (about 17 MB): a worker pays for
    # them on its first filtered request, not at start-up.
    if lang in TEXT_LANGS:
        from lark.exceptions import LarkError, UnexpectedEOF, UnexpectedInput
        from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

        try:
            node = parse_cql2_text(text)
        except UnexpectedEOF as exc:
            raise _fail("error.cql2_ends_early") from exc
        except UnexpectedInput as exc:
            token = getattr(exc, "token", None)
            if token is not None and token.type == "$END":
                raise _fail("error.cql2_ends_early") from exc
            raise _fail(
                "error.cql2_parse_at",
                line=exc.line,
                column=exc.column,
                text=text.splitlines()[exc.line - 1] if exc.line > 0 else repr(text),
            ) from exc
        except (LarkError, ValueError, TypeError) as exc:
            raise _fail("error.cql2_parse", reason=str(exc)) from exc
        return _expression(node, "CQL2 text")
    try:  # cql2-json
        document = json.loads(text)
    except ValueError as exc:
        raise _fail("error.cql2_not_json", reason=str(exc)) from exc
    from pygeofilter.parsers.cql2_json import parse as parse_cql2_json

    try:
        node = parse_cql2_json(_normalise_json(document))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise _fail("error.cql2_not_json_expression", reason=str(exc)) from exc
    return _expression(node, "CQL2-JSON")


def _expression(node: Any, lang: str) -> Filter:
    """A filter is a predicate, not a bare value (``[1, 2]`` or ``'x'`` parse but mean nothing)."""
    if not isinstance(node, ast.Node) or isinstance(node, (ast.Attribute, ast.Function)):
        raise _fail("error.cql2_not_predicate", lang=lang, node=repr(node))
    return node


@dataclass(frozen=True)
class Context:
    session: Session
    table: str
    geom: InstrumentedAttribute[Any]
    queryables: Mapping[str, Property]
    filter_crs: OutputCrs | None = None
    # The geometry the caller is shown, when not ``geom`` (sensitive places): spatial
    # predicates are answered on it, so a filter cannot locate what the caller may not see.
    shown: Any = None


def coerce(prop: Property, value: Any, where: str = "filter") -> Any:
    """A literal made fit for comparing with ``prop``; a 400 when it cannot be."""
    kind = prop.type
    try:
        if value is None:
            return None
        if kind == "uuid":
            return uuid.UUID(str(value))
        if kind == "integer":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if kind == "number":
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError(value)
        if kind == "timestamp":
            if isinstance(value, datetime):
                return value if value.tzinfo else value.replace(tzinfo=UTC)
            if isinstance(value, date):
                return datetime.combine(value, time(0), tzinfo=UTC)
            parsed = datetime.fromisoformat(str(value))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if kind == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if isinstance(value, (bool, int, float, datetime, date)):
            raise ValueError(value)
        return str(value)
    except (ValueError, TypeError) as exc:
        raise BadParameter.at(
            where, "error.cql2_value", value=value, kind=kind, name=prop.name
        ) from exc


def _attribute(node: Any, ctx: Context) -> Property:
    if not isinstance(node, ast.Attribute):
        raise _fail("error.cql2_property_left", node=repr(node))
    prop = ctx.queryables.get(node.name)
    if prop is None:
        raise _fail("error.cql2_not_queryable", name=node.name)
    return prop


def _geometry(node: Any, ctx: Context) -> BaseGeometry:
    if isinstance(node, values.Geometry):
        try:
            geom = shape(node.geometry)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise _fail("error.cql2_not_geometry", reason=str(exc)) from exc
    elif isinstance(node, values.Envelope):
        geom = box(node.x1, node.y1, node.x2, node.y2)
    elif isinstance(node, ast.Function) and node.name.lower() == "bbox":
        args = list(node.arguments)
        if len(args) not in (4, 6) or not all(isinstance(a, (int, float)) for a in args):
            raise _fail("error.cql2_bbox")
        geom = (
            box(args[0], args[1], args[2], args[3])
            if len(args) == 4
            else box(args[0], args[1], args[3], args[4])
        )
    else:
        raise _fail("error.cql2_geometry_literal", node=repr(node))
    if geom.is_empty or not geom.is_valid:
        raise _fail("error.cql2_geometry_invalid")
    if ctx.filter_crs is not None:
        geom = geometry_to_wgs84(geom, ctx.filter_crs)
    return geom


_COMPARISONS = {
    ast.Equal: lambda c, v: c == v,
    ast.NotEqual: lambda c, v: c != v,
    ast.LessThan: lambda c, v: c < v,
    ast.LessEqual: lambda c, v: c <= v,
    ast.GreaterThan: lambda c, v: c > v,
    ast.GreaterEqual: lambda c, v: c >= v,
}


def to_sql(node: Filter, ctx: Context) -> ColumnElement[bool]:  # noqa: C901 - one case per node
    if isinstance(node, ast.And):
        return and_(to_sql(node.lhs, ctx), to_sql(node.rhs, ctx))
    if isinstance(node, ast.Or):
        return or_(to_sql(node.lhs, ctx), to_sql(node.rhs, ctx))
    if isinstance(node, ast.Not):
        return not_(to_sql(node.sub_node, ctx))
    compare = _COMPARISONS.get(type(node))
    if compare is not None:
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            lhs, rhs = rhs, lhs  # 'new' = status
            flipped = {ast.LessThan: ast.GreaterThan, ast.GreaterThan: ast.LessThan,
                       ast.LessEqual: ast.GreaterEqual, ast.GreaterEqual: ast.LessEqual}  # fmt: skip
            compare = _COMPARISONS[flipped.get(type(node), type(node))]
        prop = _attribute(lhs, ctx)
        if isinstance(rhs, ast.Node) or isinstance(rhs, values.Geometry):
            raise _fail("error.cql2_compare_literal", name=prop.name)
        return compare(prop.column, coerce(prop, rhs))  # type: ignore[no-any-return]
    if isinstance(node, ast.Between):
        prop = _attribute(node.lhs, ctx)
        cond: ColumnElement[bool] = prop.column.between(
            coerce(prop, node.low), coerce(prop, node.high)
        )
        return not_(cond) if node.not_ else cond
    if isinstance(node, ast.In):
        prop = _attribute(node.lhs, ctx)
        if not node.sub_nodes:
            raise _fail("error.cql2_in_empty")
        cond = prop.column.in_([coerce(prop, v) for v in node.sub_nodes])
        return not_(cond) if node.not_ else cond
    if isinstance(node, ast.IsNull):
        prop = _attribute(node.lhs, ctx)
        cond = prop.column.is_not(None) if node.not_ else prop.column.is_(None)
        return cond
    if isinstance(node, ast.Like):
        lhs, nocase = node.lhs, node.nocase
        if isinstance(lhs, ast.Function) and lhs.name.lower() in ("lower", "casei"):
            lhs, nocase = lhs.arguments[0], True
        prop = _attribute(lhs, ctx)
        if prop.type != "string":
            raise _fail("error.cql2_like_text", name=prop.name, type=prop.type)
        cond = dialect.like(ctx.session, prop.column, str(node.pattern), nocase=nocase)
        return not_(cond) if node.not_ else cond
    if isinstance(node, ast.GeometryIntersects):
        lhs, rhs = node.lhs, node.rhs
        if isinstance(rhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        if not isinstance(lhs, ast.Attribute) or lhs.name != GEOMETRY:
            raise _fail("error.cql2_intersects")
        geom = _geometry(rhs, ctx)
        if ctx.shown is not None:
            search = sensitive.widen(geom.bounds)
            return dialect.intersects_shown(
                ctx.session, ctx.table, ctx.geom, geom, ctx.shown, search
            )
        return dialect.intersects(ctx.session, ctx.table, ctx.geom, geom)
    name = type(node).__name__
    raise _fail("error.cql2_unsupported", name=name)
