"""GeoReport v2 on the wire: XML and JSON bodies, W3C datetimes, error lists.

The same plain data (lists of ordered dicts) is written as JSON or as the XML the spec shows:
a root element, one child per record, one element per field, lists nested under their plural.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from api.core.errors import DomainError

XML_MEDIA_TYPE = "text/xml; charset=utf-8"
JSON_MEDIA_TYPE = "application/json; charset=utf-8"
FORMATS = ("json", "xml")

# XML element of one member of a nested list.
_SINGULAR = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "keywords": "keyword",
}


class Open311Error(DomainError):
    """An error with this HTTP status; under ``/open311/`` every error, this one included, is
    answered as a GeoReport error list (``api.open311.edge``)."""

    slug, title = "open311", "Open311 error"

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def w3c(value: datetime | None, tz: str) -> str | None:
    """W3C datetime with an explicit offset, in the organization's time zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def w3c_day_end(value: date | None, tz: str) -> str | None:
    """A due date is a day; as a datetime it is the end of that day where the items are."""
    if value is None:
        return None
    return datetime.combine(value, time(23, 59, 59), tzinfo=ZoneInfo(tz)).isoformat()


def parse_w3c(raw: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(400, f"{field} is not a W3C datetime: {raw!r}") from exc
    if value.tzinfo is None:
        raise Open311Error(400, f"{field} needs a time zone offset (e.g. 2026-11-21T10:00:00Z)")
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def _fill(parent: ET.Element, record: Mapping[str, Any]) -> None:
    for key, value in record.items():
        child = ET.SubElement(parent, key)
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list | tuple):
            tag = _SINGULAR.get(key, "item")
            for member in value:
                el = ET.SubElement(child, tag)
                if isinstance(member, Mapping):
                    _fill(el, member)
                else:
                    el.text = _text(member)
        else:
            child.text = _text(value)


def to_xml(
    root: str, item: str | None, data: Sequence[Mapping[str, Any]] | Mapping[str, Any]
) -> bytes:
    top = ET.Element(root)
    if isinstance(data, Mapping):
        _fill(top, data)
    else:
        assert item is not None
        for record in data:
            _fill(ET.SubElement(top, item), record)
    body: bytes = ET.tostring(top, encoding="utf-8", xml_declaration=True)
    return body


def to_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render(
    fmt: str, root: str, item: str | None, data: Sequence[Mapping[str, Any]] | Mapping[str, Any]
) -> tuple[bytes, str]:
    if fmt == "xml":
        return to_xml(root, item, data), XML_MEDIA_TYPE
    return to_json(data), JSON_MEDIA_TYPE


def error_body(fmt: str, status: int, description: str) -> tuple[bytes, str]:
    """``[{"code", "description"}]`` in JSON, ``<errors><error><code>…`` in XML."""
    return render(fmt, "errors", "error", [{"code": status, "description": description}])


def path_format(path: str) -> str:
    """The format a path asks for: XML for ``.xml``, else JSON (also when none is named)."""
    return "xml" if path.endswith(".xml") else "json"


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, f"unknown format {fmt!r}: use .json or .xml")
    return fmt
