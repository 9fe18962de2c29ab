"""Reading an asset file (GeoJSON, GeoPackage or CSV) into plain rows in WGS84.

Nothing here touches the database: ``read_assets`` returns the rows it understood and the
features it refused (1-based, with the reason), and the service decides what to write.
Projected sources (EPSG:25832/25833 UTM, EPSG:5973 UTM 33 + NN2000 height, or any CRS pyproj
knows) are transformed with pyproj; a compound CRS is read through its horizontal part, as
the height plays no part in where a lamp stands on the map.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.assets import AssetOwner, AssetStatus

if TYPE_CHECKING:
    from pyproj import CRS

# Tried in order when the caller names no id property: the usual names of a lamp number, and
# the NVDB export's object id.
ID_CANDIDATES = ("external_id", "id", "lamp_id", "lampenummer", "nvdbid", "nvdb_id", "objekt_id")
OWNER_CANDIDATES = ("owner", "eier")
X_CANDIDATES = ("lon", "longitude", "lng", "x", "east", "easting", "ost", "øst")
Y_CANDIDATES = ("lat", "latitude", "y", "north", "northing", "nord")

# Owner names as registers write them (NVDB's "Eier", lighting systems' owner fields).
_OWNER_WORDS: dict[str, AssetOwner] = {
    "municipality": AssetOwner.municipality,
    "kommune": AssetOwner.municipality,
    "kommunal": AssetOwner.municipality,
    "county": AssetOwner.county,
    "fylkeskommune": AssetOwner.county,
    "fylke": AssetOwner.county,
    "fylkeskommunal": AssetOwner.county,
    "state_roads": AssetOwner.state_roads,
    "statens vegvesen": AssetOwner.state_roads,
    "stat": AssetOwner.state_roads,
    "state": AssetOwner.state_roads,
    "private": AssetOwner.private,
    "privat": AssetOwner.private,
}


class AssetFileError(ValueError):
    """The file as a whole cannot be read (not one feature of it)."""

    def __init__(self, field: str, key: str, **params: Any) -> None:
        from api.core.i18n import translate  # the catalogues load on first use

        self.message = translate(key, "en", **params)
        super().__init__(self.message)
        self.field = field
        self.key = key  # the catalogue message, answered in the caller's language
        self.params = params


@dataclass(frozen=True, slots=True)
class AssetRow:
    feature: int  # 1-based
    external_id: str
    lon: float
    lat: float
    owner: AssetOwner
    owner_name: str | None
    status: AssetStatus
    properties: dict[str, Any]


@dataclass
class ReadResult:
    rows: list[AssetRow] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImportOptions:
    id_property: str | None = None
    owner_property: str | None = None
    crs: str | None = None
    x_column: str | None = None
    y_column: str | None = None


def parse_owner(value: Any) -> tuple[AssetOwner, str | None]:
    """The owner class of a register's owner text, and the text itself as the owner's name."""
    if value is None or str(value).strip() == "":
        return AssetOwner.municipality, None
    text = str(value).strip()
    key = text.lower()
    if key in _OWNER_WORDS:
        return _OWNER_WORDS[key], text
    # "Rogaland fylkeskommune", "Stat, Statens vegvesen", "Sandnes kommune"
    for word, owner in (
        ("fylkeskommune", AssetOwner.county),
        ("vegvesen", AssetOwner.state_roads),
        ("kommune", AssetOwner.municipality),
        ("privat", AssetOwner.private),
    ):
        if word in key:
            return owner, text
    return AssetOwner.other, text


def _crs(name: str | None) -> CRS:
    # pyproj is the import's (and the projections'), not loaded by every worker at start.
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_user_input(name or "EPSG:4326")
    except CRSError as exc:
        raise AssetFileError("crs", "error.asset_crs_unknown", name=name) from exc
    # EPSG:5973 is ETRS89 / UTM 33N + NN2000 height: the position is its horizontal part.
    if crs.is_compound and crs.sub_crs_list:
        crs = crs.sub_crs_list[0]
    if not (crs.is_geographic or crs.is_projected):
        raise AssetFileError("crs", "error.asset_crs_vertical", name=name)
    return crs


class _Projector:
    def __init__(self, crs: CRS) -> None:
        from pyproj import Transformer

        self.geographic = crs.is_geographic
        self._t = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError("coordinates are not finite numbers")
        lon, lat = self._t.transform(x, y)
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise ValueError("coordinates fall outside the CRS")
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise ValueError("coordinates fall outside the world (swapped, or another CRS?)")
        return float(lon), float(lat)


def _pick(props: Mapping[str, Any], wanted: str | None, candidates: tuple[str, ...]) -> str | None:
    if wanted is not None:
        return wanted if wanted in props else None
    lower = {k.lower(): k for k in props}
    for name in candidates:
        if name in lower:
            return lower[name]
    return None


def _row(
    n: int,
    props: dict[str, Any],
    fallback_id: Any,
    lon: float,
    lat: float,
    options: ImportOptions,
) -> AssetRow:
    id_key = _pick(props, options.id_property, ID_CANDIDATES)
    if options.id_property is not None and id_key is None:
        raise ValueError(f"no {options.id_property!r} property")
    raw_id = props.get(id_key) if id_key is not None else fallback_id
    if raw_id is None or str(raw_id).strip() == "":
        raise ValueError("no id (name the property with id_property)")
    owner_key = _pick(props, options.owner_property, OWNER_CANDIDATES)
    if options.owner_property is not None and owner_key is None:
        raise ValueError(f"no {options.owner_property!r} property")
    owner, owner_name = parse_owner(props.get(owner_key) if owner_key else None)
    status = AssetStatus.in_service
    raw_status = props.get("status")
    if isinstance(raw_status, str) and raw_status in AssetStatus.__members__:
        status = AssetStatus(raw_status)
    external_id = str(raw_id).strip()[:120]
    rest = {k: v for k, v in props.items() if k not in (id_key, owner_key)}
    return AssetRow(n, external_id, lon, lat, owner, owner_name, status, rest)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a coordinate is not a number")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(",", ".") if value is not None else ""
    try:
        return float(text)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a number") from exc


def _geojson(data: bytes, options: ImportOptions) -> Iterator[tuple[int, Any]]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AssetFileError("file", "error.asset_not_json") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise AssetFileError("file", "error.expected_feature_collection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise AssetFileError("file", "error.asset_no_features")
    # RFC 7946 is WGS84; older exporters name another CRS in a "crs" member.
    named = (
        doc.get("crs", {}).get("properties", {}).get("name")
        if isinstance(doc.get("crs"), dict)
        else None
    )
    projector = _Projector(_crs(options.crs or named))
    for n, feature in enumerate(features, 1):
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise ValueError("not a GeoJSON Feature")
            geom = feature.get("geometry")
            if not isinstance(geom, dict) or geom.get("type") != "Point":
                raise ValueError("not a Point")
            coords = geom.get("coordinates")
            if not isinstance(coords, list) or len(coords) < 2:
                raise ValueError("a Point needs two coordinates")
            lon, lat = projector.lonlat(_number(coords[0]), _number(coords[1]))
            props = feature.get("properties") or {}
            if not isinstance(props, dict):
                raise ValueError("properties is not an object")
            yield n, _row(n, dict(props), feature.get("id"), lon, lat, options)
        except ValueError as exc:
            yield n, str(exc)


def _gpkg(data: bytes, options: ImportOptions) -> Iterator[tuple[int, Any]]:
    import pyogrio  # only imports need it
    from shapely import from_wkb

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "assets.gpkg"
        path.write_bytes(data)
        try:
            meta, _fids, geometry, fields = pyogrio.raw.read(path)
        except Exception as exc:  # GDAL's errors have many types; all mean "cannot read it"
            raise AssetFileError("file", "error.asset_gpkg", reason=str(exc)) from exc
    names = list(meta["fields"])
    projector = _Projector(_crs(options.crs or meta.get("crs")))
    for i in range(len(geometry)):
        n = i + 1
        try:
            wkb = geometry[i]
            point = from_wkb(wkb) if wkb is not None else None
            if point is None or point.geom_type != "Point" or point.is_empty:
                raise ValueError("not a Point")
            lon, lat = projector.lonlat(float(point.x), float(point.y))
            props = {name: _plain(fields[j][i]) for j, name in enumerate(names)}
            yield n, _row(n, props, None, lon, lat, options)
        except ValueError as exc:
            yield n, str(exc)


def _plain(value: Any) -> Any:
    """A GeoPackage value as JSON can keep it (numpy scalars, dates)."""
    if value is None:
        return None
    item = getattr(value, "item", None)
    if callable(item):
        value = item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _csv(data: bytes, options: ImportOptions) -> Iterator[tuple[int, Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AssetFileError("file", "error.asset_csv_utf8") from exc
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h for h in (reader.fieldnames or []) if h]
    probe = dict.fromkeys(header)
    x_col = _pick(probe, options.x_column, X_CANDIDATES)
    y_col = _pick(probe, options.y_column, Y_CANDIDATES)
    if x_col is None:
        raise AssetFileError("x_column", "error.asset_no_x")
    if y_col is None:
        raise AssetFileError("y_column", "error.asset_no_y")
    projector = _Projector(_crs(options.crs))
    for n, record in enumerate(reader, 1):
        try:
            lon, lat = projector.lonlat(_number(record.get(x_col)), _number(record.get(y_col)))
            props = {k: v for k, v in record.items() if k and k not in (x_col, y_col)}
            yield n, _row(n, props, None, lon, lat, options)
        except ValueError as exc:
            yield n, str(exc)


def sniff_format(data: bytes, filename: str | None) -> str:
    """gpkg, geojson or csv, by the bytes first and the name second."""
    if data.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    name = (filename or "").lower()
    if head.startswith(b"{") or name.endswith((".geojson", ".json")):
        return "geojson"
    return "csv"


def read_assets(data: bytes, filename: str | None, options: ImportOptions) -> ReadResult:
    """Every feature of the file as a row in WGS84, or a refusal with its reason."""
    readers = {"gpkg": _gpkg, "geojson": _geojson, "csv": _csv}
    result = ReadResult()
    seen: dict[str, int] = {}
    for n, row in readers[sniff_format(data, filename)](data, options):
        if isinstance(row, str):
            result.refused.append((n, row))
        elif row.external_id in seen:
            result.refused.append(
                (n, f"id {row.external_id!r} again (feature {seen[row.external_id]})")
            )
        else:
            seen[row.external_id] = n
            result.rows.append(row)
    return result
