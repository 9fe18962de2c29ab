"""What the asset domain shows in every output: who sees which assets, and the property list
the map feed, OGC API and vector tiles share."""

from __future__ import annotations

from typing import Any

from sqlmodel import col

from models import Asset
from models.assets import STREET_LIGHT, AssetStatus

# OGC API collection id -> asset kind.
COLLECTIONS: dict[str, str] = {"street-lights": STREET_LIGHT}
# Lamps that can light a street; a faulty one is still there (and still counted as a lamp in
# the register), but only those in service count against darkness.
LIGHTING = (AssetStatus.in_service,)
# Removed assets stay in the register (their items' history names them) but leave the maps.
SHOWN_STATUSES = [s for s in AssetStatus if s != AssetStatus.removed]


def properties() -> list[tuple[str, str, Any]]:
    """(name, JSON type, column) of every output's asset properties."""
    return [
        ("kind", "text", col(Asset.kind)),
        ("external_id", "text", col(Asset.external_id)),
        ("owner", "text", col(Asset.owner)),
        ("owner_name", "text", col(Asset.owner_name)),
        ("status", "text", col(Asset.status)),
    ]
