"""Data backfills that ``safewalk migrate`` runs after the schema upgrade: work over existing
rows that may take long, so it never runs inside an Alembic revision."""

from __future__ import annotations

from api.action_items import follow_up_rollup
from api.categories.service import fill_default_labels
from api.core.db import create_db_engine, make_sessionmaker, session_scope
from api.hotspots import rollup as hotspot_rollup
from api.observations.service import fill_reason_codes
from api.privacy import sensitive


def backfill(url: str, *, batch: int = 20_000) -> dict[str, int]:
    """Data backfills that may take long, run by `safewalk migrate` after the schema upgrade
    (never inside an Alembic revision). Each is idempotent: it fills only what is still missing,
    so it can be interrupted and run again, beside live traffic."""
    engine = create_db_engine(url)
    try:
        factory = make_sessionmaker(engine)
        done: dict[str, int] = {"observation.location_general": 0}
        # Sensitive places: the generalised point of observations made before it,
        # one transaction per batch like the rollups below.
        while True:
            for session in session_scope(factory):
                filled = sensitive.fill_general_locations(session, batch=batch)
            if not filled:
                break
            done["observation.location_general"] += filled
        # Default categories' labels in the languages added after they were made.
        for session in session_scope(factory):
            done["category.labels"] = fill_default_labels(session)
        # Codes for the reasons the service gave before it gave codes.
        for session in session_scope(factory):
            done["observation.moderation_reason_code"] = fill_reason_codes(session)
        # Exact H3 cells and hotspot rollups, committed batch by batch.
        done["hotspot_rollup"] = hotspot_rollup.backfill(factory, batch=batch)
        # The follow-up rollup, for the items that have no member row.
        done["follow_up_rollup"] = follow_up_rollup.backfill(factory, batch=batch)
        return done
    finally:
        engine.dispose()
