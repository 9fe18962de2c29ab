"""A demo organization with areas, staff, a walk and its observations, so a newcomer sees data."""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from shapely.geometry import LineString, Point, Polygon
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.areas import service as area_service
from api.assets import service as assets
from api.assets.importer import ImportOptions
from api.auth import organizations, users
from api.core import spatial
from api.observations.changed import observation_changed
from api.observations.service import place
from api.walks.service import new_join_code
from models import (
    Area,
    AreaKind,
    Category,
    Observation,
    Organization,
    Participant,
    ParticipantGroup,
    Role,
    Walk,
    WalkStatus,
    utcnow,
)
from models.assets import STREET_LIGHT

DEMO_SLUG = "demo"
CET = timezone(timedelta(hours=1))

# Three neighbourhoods of central Sandnes (simplified outlines), sharing borders.
AREAS = [
    (
        "Sandnes sentrum",
        "SEN",
        [(5.728, 58.848), (5.742, 58.848), (5.742, 58.856), (5.728, 58.856)],
    ),
    ("Trones", "TRO", [(5.742, 58.848), (5.756, 58.848), (5.756, 58.856), (5.742, 58.856)]),
    ("Lura", "LUR", [(5.728, 58.840), (5.756, 58.840), (5.756, 58.848), (5.728, 58.848)]),
]

# (category, lon, lat, severity, perceived safety, note, participant index)
OBSERVATIONS = [
    ("lighting", 5.73520, 58.85170, 3, 0, "Lamp post out along the river path", 0),
    ("lighting", 5.73545, 58.85182, 3, 1, "Second lamp out, path completely dark", 1),
    ("lighting", 5.73571, 58.85190, 2, 1, "Very dim light at the bend", 2),
    ("lighting", 5.73598, 58.85201, 2, 1, "Dark stretch before the bridge", 4),
    ("lighting", 5.74610, 58.85020, 2, 1, "Underpass lighting broken", 3),
    ("lighting", 5.74628, 58.85028, 3, 0, "Underpass pitch black", 5),
    ("vegetation", 5.73850, 58.85310, 2, 1, "Overgrown hedge hides the corner", 0),
    ("vegetation", 5.73866, 58.85318, 2, 1, "Bushes block the view from the road", 6),
    ("vegetation", 5.73881, 58.85305, 1, 2, "Trees need trimming", 2),
    ("graffiti", 5.74615, 58.85031, 1, 2, "Tags on the underpass wall", 3),
    ("graffiti", 5.74622, 58.85036, 1, 2, "More tagging inside", 7),
    ("damaged_fixture", 5.73390, 58.85050, 2, 2, "Broken fence by the playground", 1),
    ("litter", 5.74120, 58.84480, 1, 2, "Dumped bags behind the kiosk", 4),
    ("walkway", 5.74950, 58.84650, 2, 2, "Broken paving stones, trip hazard", 5),
    ("transit_stop", 5.73700, 58.84920, 2, 1, "Bus shelter glass smashed, no light", 6),
    ("sightlines", 5.74400, 58.85450, 2, 1, "Wall blocks the view into the parking lot", 7),
    ("feels_unsafe", 5.74605, 58.85015, 3, 0, "Would never walk here alone at night", 2),
    ("feels_unsafe", 5.73555, 58.85185, 2, 1, "Feels deserted in the evening", 3),
    ("isolation", 5.75200, 58.84300, 2, 1, "No people or houses around", 5),
    ("positive_place", 5.73300, 58.85210, 1, 3, "Well-lit square with people around", 0),
    ("positive_place", 5.74000, 58.85100, 1, 3, "Cafe open late, feels safe", 6),
]

PARTICIPANTS = [
    ("Kari", ParticipantGroup.resident),
    ("Jonas", ParticipantGroup.youth),
    (None, ParticipantGroup.police),
    ("Ingrid", ParticipantGroup.municipality),
    (None, ParticipantGroup.youth),
    ("Ole", ParticipantGroup.housing),
    ("Aisha", ParticipantGroup.resident),
    (None, ParticipantGroup.business),
]


# The evening route through Trones that the active demo walk follows (lon, lat).
ACTIVE_ROUTE = [
    (5.7432, 58.8492),
    (5.7455, 58.8499),
    (5.7461, 58.8503),
    (5.7478, 58.8511),
    (5.7502, 58.8517),
    (5.7523, 58.8531),
]
ACTIVE_TITLE = "Kveldsvandring Trones (demo, open for joining)"

# The lamp register of the demo's streets: the river path's lamps (two of them the ones the
# walk found out), the county road's underpass, and the evening route lit every 35 m or so
# except for one dark stretch in the middle. (lamp number, lon, lat, owner as NVDB writes it)
LAMPS = [
    ("SND-0101", 5.73515, 58.85166, "Sandnes kommune"),
    ("SND-0102", 5.73556, 58.85184, "Sandnes kommune"),
    ("SND-0103", 5.73600, 58.85204, "Sandnes kommune"),
    ("RFK-4411", 5.74616, 58.85023, "Rogaland fylkeskommune"),
    ("RFK-4412", 5.74590, 58.85012, "Rogaland fylkeskommune"),
]
DARK_STRETCH = (2, 4)  # route segments without lamps


def _route_lamps() -> list[tuple[str, float, float, str]]:
    lamps = []
    for i, ((x0, y0), (x1, y1)) in enumerate(zip(ACTIVE_ROUTE, ACTIVE_ROUTE[1:], strict=False)):
        if DARK_STRETCH[0] <= i < DARK_STRETCH[1]:
            continue
        # About 35 m apart: a segment of the route is 70-200 m long here.
        steps = max(1, round(math.hypot((x1 - x0) * 57_700, (y1 - y0) * 111_300) / 35))
        for k in range(steps):
            t = k / steps
            owner = "Rogaland fylkeskommune" if i == 0 else "Sandnes kommune"
            lamps.append((f"TRO-{i}{k:02d}", x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, owner))
    end = ACTIVE_ROUTE[-1]
    return [*lamps, ("TRO-END", end[0], end[1], "Sandnes kommune")]


def lamp_register() -> bytes:
    """The demo's lamps as a GeoJSON export (the shape of an NVDB 87 "Belysningspunkt" export
    reduced to id and owner), so the demo goes through the same import as real registers."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
            "properties": {"lampenummer": number, "eier": owner, "armatur": "LED"},
        }
        for number, lon, lat, owner in [*LAMPS, *_route_lamps()]
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@dataclass
class DemoResult:
    org_slug: str
    areas: int
    observations: int
    emails: list[str]
    password: str


def load_demo(session: Session, *, password: str | None = None) -> DemoResult | None:
    if session.scalar(select(Organization).where(col(Organization.slug) == DEMO_SLUG)) is not None:
        return None
    password = password or secrets.token_urlsafe(12)
    org = organizations.create_organization(session, "Demo kommune", DEMO_SLUG)
    emails = []
    for role, dept in (
        (Role.admin, None),
        (Role.coordinator, None),
        (Role.engineer, "lighting"),
        (Role.planner, None),
    ):
        email = f"{role.value}@demo.safewalk.local"
        users.create_user(session, org, email=email, password=password, role=role, department=dept)
        emails.append(email)

    created = []
    for name, code, ring in AREAS:
        created.append(
            area_service.create_area(
                session,
                org,
                name=name,
                code=code,
                geometry=Polygon(ring),
                kind=AreaKind.neighbourhood,
            )
        )

    assets.import_assets(
        session, org.id, lamp_register(), "belysningspunkt.geojson", kind=STREET_LIGHT,
        options=ImportOptions(id_property="lampenummer", owner_property="eier"),
    )  # fmt: skip

    starts = datetime(2026, 11, 3, 19, 0, tzinfo=CET)
    walk = Walk(
        organization_id=org.id,
        area_id=created[0].id,
        title="Trygghetsvandring Sandnes sentrum",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        status=WalkStatus.completed,
        join_code=secrets.token_hex(4).upper(),
        is_dark=True,
        weather="Drizzle, 6 °C",
    )
    session.add(walk)
    session.flush()
    participants = []
    for display_name, group in PARTICIPANTS:
        p = Participant(
            organization_id=org.id, walk_id=walk.id, display_name=display_name, group=group
        )
        session.add(p)
        participants.append(p)
    session.flush()

    cats = {
        c.code: c
        for c in session.scalars(select(Category).where(col(Category.organization_id) == org.id))
    }
    for i, (code, lon, lat, severity, safety, note, who) in enumerate(OBSERVATIONS):
        obs = Observation(
            id=uuid.uuid5(uuid.NAMESPACE_URL, f"safewalk-demo-{i}"),
            organization_id=org.id,
            walk_id=walk.id,
            participant_id=participants[who].id,
            category_id=cats[code].id,
            accuracy_m=5.0,
            severity=severity,
            perceived_safety=safety,
            note=note,
            recorded_at=starts + timedelta(minutes=4 * i),
            body_hash=hashlib.sha256(f"demo-{i}".encode()).hexdigest(),
        )
        place(session, obs, Point(lon, lat))  # area, darkness and H3 cell as in live capture
        assets.link_observation(session, obs, cats[code], None, Point(lon, lat), ["demo", i])
        session.add(obs)
        session.flush()
        observation_changed(session, obs)
    session.flush()
    ensure_active_walk(session)
    return DemoResult(org.slug, len(created), len(OBSERVATIONS), emails, password)


def ensure_active_walk(session: Session) -> Walk | None:
    """The demo's walk that is going on now, so a newcomer can join it from a phone.

    Created when missing (also in a demo database made before it existed). It has no end
    time, so a participant's token is valid for a day from joining.
    """
    org = session.scalar(select(Organization).where(col(Organization.slug) == DEMO_SLUG))
    if org is None:
        return None
    found = session.scalar(
        select(Walk).where(
            col(Walk.organization_id) == org.id,
            col(Walk.title) == ACTIVE_TITLE,
            col(Walk.status) == WalkStatus.active,
        )
    )
    if found is not None:
        return found
    area = session.scalar(
        select(Area).where(col(Area.organization_id) == org.id, col(Area.code) == "TRO")
    )
    walk = Walk(
        organization_id=org.id,
        area_id=area.id if area is not None else None,
        title=ACTIVE_TITLE,
        route=spatial.to_db(LineString(ACTIVE_ROUTE)),
        starts_at=utcnow(),
        status=WalkStatus.active,
        join_code=new_join_code(),
    )
    session.add(walk)
    session.flush()
    return walk


# The demo's town, drawn as its basemap: the areas' borders and the walk's route are streets,
# with a few more to find one's way. Made-up names on a made-up map, not a survey of Sandnes.
DEMO_STREETS: list[tuple[str, list[tuple[float, float]]]] = [
    ("Langgata", [(5.724, 58.8525), (5.742, 58.8522), (5.760, 58.8526)]),
    ("Storgata", [(5.724, 58.848), (5.742, 58.848), (5.760, 58.848)]),
    ("Luraveien", [(5.724, 58.8440), (5.742, 58.8436), (5.760, 58.8442)]),
    ("Parkveien", [(5.726, 58.8556), (5.742, 58.8560), (5.758, 58.8556)]),
    ("Jernbanegata", [(5.7350, 58.838), (5.7355, 58.848), (5.7350, 58.860)]),
    ("Elvegata", [(5.742, 58.838), (5.742, 58.848), (5.7425, 58.860)]),
    ("Trones allé", [(5.7500, 58.838), (5.7505, 58.848), (5.7500, 58.860)]),
    ("Kveldsstien", ACTIVE_ROUTE),
]
DEMO_RIVER = [(5.7290, 58.8600), (5.7335, 58.8540), (5.7365, 58.8505), (5.7380, 58.8460),
              (5.7330, 58.8380)]  # fmt: skip
DEMO_PARKS = [[(5.7312, 58.8514), (5.7346, 58.8514), (5.7346, 58.8531), (5.7312, 58.8531)]]
DEMO_ATTRIBUTION = "Demo map drawn from the demo's own areas and route"


def write_demo_basemap(data_dir: Path) -> Path | None:
    """The demo organization's basemap, unless one was imported for it: a raster MBTiles drawn
    here, from nothing but the constants above."""
    from api.outputs.basemap import draw
    from api.outputs.basemap.service import basemap_dir

    target = basemap_dir(data_dir) / f"{DEMO_SLUG}.mbtiles"
    if target.exists() or (basemap_dir(data_dir) / f"{DEMO_SLUG}.pmtiles").exists():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    sketch = draw.Sketch(streets=DEMO_STREETS, rivers=[DEMO_RIVER], parks=DEMO_PARKS)
    draw.write_sketch(partial, sketch, name="Sandnes (demo)", attribution=DEMO_ATTRIBUTION)
    partial.replace(target)
    return target
