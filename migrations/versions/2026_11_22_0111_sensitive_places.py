"""Trust: sensitive places.

``observation.location_general``: the centre of the observation's H3 resolution-8 cell, which
stands in for its location outside the coordinators' view when its category is sensitive.
No spatial index: queries find rows through the true location's index and then test this point.
Existing rows are filled by ``safewalk migrate`` (api/core/migrate.py), not here.

Revision ID: a9c0c0a0016d
Revises: a9c0c0a0016c
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "a9c0c0a0016d"
down_revision: str | None = "a9c0c0a0016c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Registered with SpatiaLite (geometry_columns and its type/SRID triggers), as the
        # other geometry columns are; a batch rebuild of the table would lose that.
        op.execute(
            "SELECT AddGeometryColumn('observation', 'location_general', 4326, 'POINT', 'XY')"
        )
        return
    op.add_column(
        "observation",
        sa.Column(
            "location_general",
            Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=True,
        ),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("SELECT DiscardGeometryColumn('observation', 'location_general')")
        op.execute("ALTER TABLE observation DROP COLUMN location_general")
        return
    op.drop_column("observation", "location_general")
