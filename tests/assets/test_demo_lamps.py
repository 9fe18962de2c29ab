"""The demo's lamp register: imported like a real one, a few lamps the county's, and the
walk's lighting reports on their lamps."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assets import service as assets
from api.jobs.demo import ACTIVE_TITLE, load_demo
from models import ActionItem, Asset, AssetOwner, Walk


def test_the_demo_has_lamps_some_of_them_the_countys(session: Session) -> None:
    result = load_demo(session, password="demo demo demo")
    assert result is not None
    lamps = list(session.scalars(select(Asset)))
    assert len(lamps) > 12
    county = [a for a in lamps if a.owner == AssetOwner.county]
    assert 2 <= len(county) < len(lamps) // 2
    assert {a.owner_name for a in county} == {"Rogaland fylkeskommune"}
    items = list(session.scalars(select(ActionItem).where(ActionItem.asset_id.is_not(None))))
    referred = [i for i in items if i.status == "referred"]
    assert referred
    assert {i.referred_to for i in referred} == {"Rogaland fylkeskommune"}
    assert any(i.status == "new" for i in items)  # the municipality's own lamps
    # The evening route has its dark stretch.
    walk = session.scalar(select(Walk).where(Walk.title == ACTIVE_TITLE))
    assert walk is not None
    gaps = assets.walk_gaps(session, walk, 25.0)
    assert len(gaps) == 1
    assert gaps[0].length_m > 150
