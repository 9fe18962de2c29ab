"""``safewalk maintain``: upkeep that rewrites tables, run from a scheduler at a quiet hour,
not on every ``safewalk migrate`` (which runs at each deploy and must stay quick).

The observation table is clustered on its spatial index: a map tile then reads its few
thousand points from a few dozen heap pages instead of one page each (observations arrive in
time order, scattered over the whole city). PostgreSQL does not keep a table clustered as rows
arrive, so the command is meant to be repeated (weekly, say); ``CLUSTER`` takes an exclusive
lock on the table while it rewrites it (tens of seconds at a million rows), so captures wait
for it. SQLite has no clustered heap to keep: there it says so and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from api.core import dialect

# (table, index): the spatial index the map's reads go through.
CLUSTERED = (("observation", "idx_observation_location"),)


@dataclass(frozen=True)
class Step:
    table: str
    index: str
    done: bool
    message: str


def maintain(engine: Engine) -> list[Step]:
    """Cluster each table of ``CLUSTERED`` on its index and refresh its statistics, each in
    its own transaction (so one table's lock is released before the next is taken)."""
    steps = []
    for table, index in CLUSTERED:
        with engine.begin() as conn:
            done = dialect.cluster_on(conn, table, index)
        steps.append(
            Step(
                table,
                index,
                done,
                f"{table}: clustered on {index} and analysed"
                if done
                else f"{table}: nothing to do on SQLite (no clustered heap to keep)",
            )
        )
    return steps
