"""What the benchmarks against a real server share: `safewalk serve` with N workers, the
server's resident memory (summed over its process tree, sampled every 100 ms), and a seeded
organization with areas, active walks, participants and staff, each with a token.

Tokens are issued here with the server's secret rather than by signing in or joining over
HTTP: the join throttle allows 60 joins a minute per walk (api/core/ratelimit.py), and signing in
is not what these benchmarks measure.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from subprocess import STDOUT, Popen
from typing import IO, Any

from shapely.geometry import box

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.auth import organizations, users  # noqa: E402
from api.auth.security import issue_token, staff_token_expiry  # noqa: E402
from api.core import spatial  # noqa: E402
from api.core.db import create_db_engine, make_sessionmaker  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.walks.service import participant_token_expiry  # noqa: E402
from models import (  # noqa: E402
    Area,
    Category,
    Participant,
    ParticipantGroup,
    Role,
    Walk,
    WalkStatus,
    utcnow,
)
from tests.factories.live_server import SECRET, LiveServer  # noqa: E402

# Sandnes sentrum and around: areas of about 1.1 x 0.9 km side by side.
ORIGIN = (5.70, 58.83)
AREA_W, AREA_H = 0.018, 0.008
DEPARTMENTS = ("lighting", "parks", "roads", "property", "sanitation", "transit")


class Server(LiveServer):
    """`safewalk serve --workers N` (one process per worker under uvicorn's supervisor)."""

    def __init__(self, database_url: str, data_dir: Path, *, workers: int = 1) -> None:
        super().__init__(database_url, data_dir)
        self.workers = workers

    def _spawn(self, env: dict[str, str], log: IO[bytes]) -> Popen[bytes]:
        args = [sys.executable, "-m", "api.cli", "serve", "--no-migrate"]
        args += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)]
        return Popen(args, env=env, stdout=log, stderr=STDOUT, cwd=ROOT)

    # Generous: on a shared, saturated machine two workers importing the app take minutes.
    def start(self, timeout: float = 240.0) -> Server:
        super().start(timeout)
        # /readyz answers as soon as one worker listens; wait for all of them.
        deadline = time.monotonic() + timeout
        while self.workers > 1 and time.monotonic() < deadline:
            spawned = [p for p in process_tree(self.pid) if b"spawn_main" in _cmdline(p)]
            if len(spawned) >= self.workers:
                break
            time.sleep(0.1)
        time.sleep(1.0 if self.workers > 1 else 0)  # each worker imports the app once started
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def process_tree(pid: int) -> list[int]:
    """``pid`` and every descendant (from /proc; psutil is not a dependency)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return found


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def rss_mb(pid: int) -> float:
    """Resident memory of the process tree rooted at ``pid``, in MB."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total / 1024


class RssSampler:
    """Samples the tree's RSS every 100 ms in a thread; ``peak`` since start or ``reset``."""

    def __init__(self, pid: int, every_s: float = 0.1) -> None:
        self.pid = pid
        self.every_s = every_s
        self.peak = 0.0
        self.last = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.last = rss_mb(self.pid)
            self.peak = max(self.peak, self.last)
            self.samples += 1
            self._stop.wait(self.every_s)

    def reset(self) -> None:
        self.peak = self.last

    def __enter__(self) -> RssSampler:
        self.last = self.peak = rss_mb(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def settings_for(url: str, data_dir: Path) -> Settings:
    """The settings the live server runs with (tests/factories/live_server.py), to issue tokens it accepts."""
    return Settings(environment="test", data_dir=data_dir, database_url=url, secret_key=SECRET)


@dataclass
class Place:
    area_id: uuid.UUID
    walk_id: uuid.UUID
    bounds: tuple[float, float, float, float]  # minx, miny, maxx, maxy

    def point(self, rnd: random.Random) -> list[float]:
        minx, miny, maxx, maxy = self.bounds
        # Clustered, as real reports are: a few hot spots per area, with scatter.
        cx = minx + (maxx - minx) * (0.2 + 0.6 * rnd.randrange(5) / 4)
        cy = miny + (maxy - miny) * (0.2 + 0.6 * rnd.randrange(4) / 3)
        x = min(max(cx + rnd.gauss(0, 0.0015), minx + 1e-5), maxx - 1e-5)
        y = min(max(cy + rnd.gauss(0, 0.0007), miny + 1e-5), maxy - 1e-5)
        return [round(x, 6), round(y, 6)]


@dataclass
class Seeded:
    org_id: uuid.UUID
    places: list[Place]
    categories: list[str]
    # (walk index, token) per participant; tokens per staff role.
    participants: list[tuple[int, str]] = field(default_factory=list)
    engineers: list[tuple[str, str]] = field(default_factory=list)  # (department, token)
    planners: list[str] = field(default_factory=list)
    coordinator: str = ""


def seed(
    url: str,
    data_dir: Path,
    *,
    areas: int,
    participants: int,
    engineers: int = 6,
    planners: int = 3,
) -> Seeded:
    """One organization, ``areas`` areas with one active walk each, participants spread over
    the walks, engineers in several departments, planners and a coordinator; all with tokens."""
    settings = settings_for(url, data_dir)
    engine = create_db_engine(url)
    factory = make_sessionmaker(engine)
    tag = uuid.uuid4().hex[:6]
    try:
        with factory() as s:
            org = organizations.create_organization(s, "Bench kommune", f"bench-{tag}")
            places = []
            cols = max(1, int(areas**0.5))
            for i in range(areas):
                x0 = ORIGIN[0] + (i % cols) * AREA_W
                y0 = ORIGIN[1] + (i // cols) * AREA_H
                bounds = (x0, y0, x0 + AREA_W, y0 + AREA_H)
                area = Area(
                    organization_id=org.id,
                    name=f"Area {i + 1}",
                    geometry=spatial.to_db(box(*bounds)),
                )
                s.add(area)
                s.flush()
                walk = Walk(
                    organization_id=org.id,
                    title=f"Evening walk {i + 1}",
                    area_id=area.id,
                    status=WalkStatus.active,
                    join_code=uuid.uuid4().hex[:8].upper(),
                    starts_at=utcnow() - timedelta(hours=1),
                )
                s.add(walk)
                s.flush()
                places.append(Place(area.id, walk.id, bounds))
            cats = [c.code for c in s.query(Category).filter_by(organization_id=org.id).all()]
            seeded = Seeded(org.id, places, sorted(cats))

            def staff(role: Role, department: str | None = None) -> str:
                user = users.create_user(
                    s,
                    org,
                    email=f"{role.value}-{uuid.uuid4().hex[:8]}@bench.no",
                    password="benchmark-password",
                    role=role,
                    department=department,
                )
                return issue_token(
                    secret=SECRET, settings=settings, kind="staff", subject=user.id,
                    organization_id=org.id, expires_at=staff_token_expiry(settings),
                )  # fmt: skip

            for i in range(engineers):
                dept = DEPARTMENTS[i % len(DEPARTMENTS)]
                seeded.engineers.append((dept, staff(Role.engineer, dept)))
            seeded.planners = [staff(Role.planner) for _ in range(planners)]
            seeded.coordinator = staff(Role.coordinator)
            walks = {p.walk_id: s.get(Walk, p.walk_id) for p in places}
            people = []
            for i in range(participants):
                place = places[i % len(places)]
                person = Participant(
                    organization_id=org.id,
                    walk_id=place.walk_id,
                    display_name=f"P{i}",
                    group=ParticipantGroup.resident,
                )
                s.add(person)
                people.append((i % len(places), person))
            s.flush()
            for index, person in people:
                walk = walks[places[index].walk_id]
                assert walk is not None
                token = issue_token(
                    secret=SECRET, settings=settings, kind="participant", subject=person.id,
                    organization_id=org.id, walk_id=walk.id,
                    expires_at=participant_token_expiry(walk),
                )  # fmt: skip
                seeded.participants.append((index, token))
            s.commit()
        return seeded
    finally:
        engine.dispose()


def observation(
    place: Place, categories: list[str], rnd: random.Random, *, minutes_ago: float = 10.0
) -> dict[str, Any]:
    """An observation body as the field app sends it (API.md), somewhere in the place's area."""
    recorded = utcnow() - timedelta(minutes=rnd.uniform(0, minutes_ago))
    return {
        "id": str(uuid.uuid4()),
        "walk_id": str(place.walk_id),
        "category": rnd.choice(categories),
        "location": {"type": "Point", "coordinates": place.point(rnd)},
        "accuracy_m": round(rnd.uniform(3, 15), 1),
        "severity": rnd.randint(1, 3),
        "perceived_safety": rnd.randint(0, 3),
        "note": rnd.choice(["Lamp post out along the path", "Overgrown hedge", None, "Dark"]),
        "recorded_at": recorded.isoformat(),
    }


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"
