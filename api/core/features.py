"""A feature property as every output writes it: GeoJSON feeds, OGC API collections (and
their queryables), vector tiles and GeoPackages. Each domain's ``features.py`` lists its own."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Property:
    """One property of a domain's features; a queryable unless ``queryable`` is False."""

    name: str
    kind: str  # how spatial.json_value types it: text, number, bool, uuid, time
    type: str  # for queryables and CQL2 values: string, integer, number, boolean, uuid, timestamp
    column: Any
    title: str
    enum: tuple[str, ...] | None = None
    queryable: bool = True

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title}
        if self.type == "uuid":
            out.update(type="string", format="uuid")
        elif self.type == "timestamp":
            out.update(type="string", format="date-time")
        elif self.type == "date":
            out.update(type="string", format="date")
        else:
            out["type"] = self.type
        if self.enum:
            out["enum"] = list(self.enum)
        return out


def masked(
    props: Iterable[Property], names: frozenset[str], hide: Callable[[Any], Any]
) -> tuple[Property, ...]:
    """``props`` with the columns of ``names`` passed through ``hide`` (a caller who is shown
    a generalised place does not see its free text either)."""
    return tuple(replace(p, column=hide(p.column)) if p.name in names else p for p in props)


def columns(props: Iterable[Property]) -> list[tuple[str, str, Any]]:
    """``(name, kind, column)`` as ``spatial.feature_json`` takes them."""
    return [(p.name, p.kind, p.column) for p in props]
