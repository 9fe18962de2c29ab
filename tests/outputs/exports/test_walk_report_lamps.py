"""The walk report shows the route's dark stretches once the organization has a lamp register."""

from __future__ import annotations

from pathlib import Path

from shapely.geometry import LineString
from sqlalchemy.orm import Session

from api.core import spatial
from tests.factories.assets import make_lamp
from tests.factories.client import SyncClient
from tests.factories.observations import near
from tests.factories.pdf import pdf_text
from tests.factories.world import World


def test_the_walk_report_shows_dark_stretches(
    client: SyncClient, world: World, session: Session, tmp_path: Path, backend: str
) -> None:
    world.walk.route = spatial.to_db(LineString([near(-100, 0), near(100, 0)]))
    session.add(world.walk)
    session.commit()
    url = f"/api/v1/walks/{world.walk.id}/report.pdf"
    without = pdf_text(client.get(url, headers=world.headers("coordinator")).content, tmp_path,
                       f"no-lamps-{backend}")  # fmt: skip
    assert "Mørke strekninger" not in without  # no register: no claim about darkness
    make_lamp(session, world.org, "M-1", *near(0, 0))
    session.commit()
    res = client.get(url, headers=world.headers("coordinator"))
    assert res.status_code == 200, res.text
    text = " ".join(pdf_text(res.content, tmp_path, f"lamps-{backend}").split())
    assert "Mørke strekninger" in text
    # 200 m of route, one lamp lighting 50 m of it in the middle: two stretches of 75 m.
    assert "2 strekninger, 150 m av ruten lenger enn 25 m fra en lyktestolpe som virker" in text
    assert "Tykk svart: mørke strekninger av ruten" in text
