"""Hotspot rollups: observation counts per H3 cell, kept up to date as observations change.

`HotspotDay` holds one row per (organization, area, category, resolution, cell, UTC day) and
`HotspotTotal` the same without the day, for maps over all time. `HotspotMember` remembers
what each counted observation contributes, so that a later change (moderation, an author's
edit, a withdrawal, a deleted area) takes exactly that contribution out again. Maintained by
`api.hotspots.rollup`; only accepted observations with a location count.

`area_id` is part of the key, and a key column cannot be NULL on PostgreSQL, nor be matched by
ON CONFLICT when NULL on SQLite: observations outside every area carry `NO_AREA`, the nil UUID.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, Column, Index, SmallInteger
from sqlmodel import Field, SQLModel

NO_AREA = uuid.UUID(int=0)


class HotspotDay(SQLModel, table=True):
    # Key order serves the map's query: one organization, one resolution, a range of days.
    __tablename__ = "hotspot_day"

    organization_id: uuid.UUID = Field(
        primary_key=True, foreign_key="organization.id", ondelete="CASCADE"
    )
    resolution: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    day: date = Field(primary_key=True)
    area_id: uuid.UUID = Field(primary_key=True)
    category_id: uuid.UUID = Field(primary_key=True)
    cell: int = Field(sa_column=Column(BigInteger, primary_key=True))
    n: int = 0  # observations
    score: int = 0  # sum of severities
    dark: int = 0  # observations made in the dark
    dark_known: int = 0  # observations whose darkness is known


class HotspotTotal(SQLModel, table=True):
    __tablename__ = "hotspot_total"
    # `hotspot_cell` is rewritten per touched cell from these rows: found by cell, any area.
    __table_args__ = (Index("ix_hotspot_total_org_cell", "organization_id", "cell"),)

    organization_id: uuid.UUID = Field(
        primary_key=True, foreign_key="organization.id", ondelete="CASCADE"
    )
    resolution: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    area_id: uuid.UUID = Field(primary_key=True)
    category_id: uuid.UUID = Field(primary_key=True)
    cell: int = Field(sa_column=Column(BigInteger, primary_key=True))
    n: int = 0
    score: int = 0
    dark: int = 0
    dark_known: int = 0


class HotspotMember(SQLModel, table=True):
    """What one observation adds to the rollups now; no row when it adds nothing.

    No foreign key to the observation: if rows are ever deleted behind the service's back,
    the member row stays and `hotspot_rollup.sync` takes its contribution out.
    """

    __tablename__ = "hotspot_member"

    observation_id: uuid.UUID = Field(primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organization.id", ondelete="CASCADE")
    area_id: uuid.UUID = Field(index=True)
    category_id: uuid.UUID
    day: date
    severity: int
    is_dark: bool | None = None
    h3_r5: int = Field(sa_column=Column(BigInteger, nullable=False))
    h3_r6: int = Field(sa_column=Column(BigInteger, nullable=False))
    h3_r7: int = Field(sa_column=Column(BigInteger, nullable=False))
    h3_r8: int = Field(sa_column=Column(BigInteger, nullable=False))
    h3_r9: int = Field(sa_column=Column(BigInteger, nullable=False))
    h3_r10: int = Field(sa_column=Column(BigInteger, nullable=False))
    h3_r11: int = Field(sa_column=Column(BigInteger, nullable=False))
    h3_r12: int = Field(sa_column=Column(BigInteger, nullable=False))


class HotspotByCell(SQLModel, table=True):
    """One row per (organization, resolution, cell) over all time, for the default map: the
    categories counted when none are asked for (not sensitive, not a good place; see
    `api.hotspots.rollup.map_categories`), summed over areas, with the most frequent of them.

    The map without filters reads these (thousands of rows) instead of summing `hotspot_total`
    per (cell, category) (hundreds of thousands). Rewritten from `hotspot_total` for every cell
    a change touches, under the row's lock; rows that went back to zero stay (n = 0).
    """

    __tablename__ = "hotspot_cell"

    organization_id: uuid.UUID = Field(
        primary_key=True, foreign_key="organization.id", ondelete="CASCADE"
    )
    resolution: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    cell: int = Field(sa_column=Column(BigInteger, primary_key=True))
    n: int = 0
    score: int = 0
    dark: int = 0
    dark_known: int = 0
    # The most frequent category; ties go to the first code in alphabetical order.
    top_category_id: uuid.UUID | None = None
    top_n: int = 0


class HotspotItemCell(SQLModel, table=True):
    """The open action items per cell: one row per (cell, item) and the category and area of
    the item's counted observations there, with how many there are (always > 0).

    Kept by `api.hotspots.rollup.items_changed`, which grouping and the workflow call for every
    item whose members or status change: an item's rows are rewritten from its observations,
    and an item that is no longer open has none. The map counts distinct items per cell.
    """

    __tablename__ = "hotspot_item_cell"

    organization_id: uuid.UUID = Field(
        primary_key=True, foreign_key="organization.id", ondelete="CASCADE"
    )
    resolution: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    cell: int = Field(sa_column=Column(BigInteger, primary_key=True))
    action_item_id: uuid.UUID = Field(primary_key=True, index=True)
    category_id: uuid.UUID = Field(primary_key=True)
    area_id: uuid.UUID = Field(primary_key=True)
    n: int = 0
