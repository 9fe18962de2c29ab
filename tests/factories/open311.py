"""What Open311 answers look like, and a FixMyStreet-style client posting to the server."""

from __future__ import annotations

import re
from typing import Any

from tests.factories.client import SyncClient
from tests.factories.world import World

BASE = "/open311/v2"


# What FixMyStreet's Open311.pm posts for a report (plus our attributes).
REPORTER = {"email": "kari.nordmann@example.no", "first_name": "Kari", "last_name": "Nordmann"}
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


def new_key(client: SyncClient, world: World, name: str = "FiksGataMi") -> str:
    res = client.post(
        "/api/v1/integration-keys", json={"name": name}, headers=world.headers("admin")
    )
    assert res.status_code == 201, res.text
    return str(res.json()["api_key"])


def fms_post(client: SyncClient, key: str, **over: Any) -> Any:
    form = {
        "jurisdiction_id": "sandnes",
        "api_key": key,
        "service_code": "lighting",
        "lat": "58.8521",
        "long": "5.7352",
        "description": "Gatelyset er ute langs gangveien",
        "attribute[severity]": "3",
        "attribute[perceived_safety]": "1",
        **REPORTER,
        **over,
    }
    return client.post(
        f"{BASE}/requests.xml", data={k: v for k, v in form.items() if v is not None}
    )
