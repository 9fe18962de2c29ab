"""Benchmark: the PDF walk report of a walk with 500 action items, and the area exports.

    python bench/bench_report.py                       # both backends, 500 items
    python bench/bench_report.py --backend spatialite --n 500

One organization, one area, one walk with a route, N observations of actionable categories
placed more than 60 m apart (so each becomes its own action item), each with a photo whose
thumbnail lies in the media store (N distinct pictures, as a walk's photos are).
Seeded: runs are comparable. Timed, each after one warm-up run:

- the walk report (gather + ReportLab with the server-drawn map and N thumbnails);
- the area's action list as PDF, XLSX and GeoPackage.

Peak memory is Python's allocations during one run (tracemalloc), and the process's
maximum resident size after all runs. The ratios printed compare the exports to the PDF
report, measured in this run.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageOps
from shapely.geometry import LineString, Polygon

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.action_items import grouping as item_domain  # noqa: E402
from api.auth import organizations  # noqa: E402
from api.core import spatial  # noqa: E402
from api.core.db import create_db_engine, make_sessionmaker  # noqa: E402
from api.core.media import MediaStore  # noqa: E402
from api.observations.service import place  # noqa: E402
from api.outputs.exports import data, gpkg, pdf, xlsx  # noqa: E402
from bench._common import create_scratch, drop_scratch  # noqa: E402
from models import (  # noqa: E402
    Area,
    Category,
    Moderation,
    Observation,
    Organization,
    Participant,
    ParticipantGroup,
    Photo,
    Walk,
    WalkStatus,
    utcnow,
)

CATEGORIES = ["lighting", "vegetation", "walkway", "graffiti", "litter", "damaged_fixture"]


def _pictures(store: MediaStore, rng: random.Random, n: int) -> list[tuple[str, int]]:
    """n distinct thumbnails (512 px, noisy like a photo at night), stored like uploads."""
    out = []
    for i in range(n):
        noise = Image.effect_noise((512, 384), 20 + i % 40)
        tint = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        img = ImageOps.colorize(noise, black=(10, 10, 30), white=tint)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=80)
        blob = buf.getvalue()
        digest = hashlib.sha256(blob).hexdigest()
        store.put(blob, "thumb.jpg", digest=digest)
        out.append((digest, len(blob)))
    return out


def seed(url: str, media: MediaStore, n: int) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    rng = random.Random(14)
    engine = create_db_engine(url)
    factory = make_sessionmaker(engine)
    pictures = _pictures(media, rng, n)
    side = 60.0 / 111_320  # one item per 60 m cell (grouping distances are at most 40 m)
    cols = int(n**0.5) + 1
    lon0, lat0 = 10.75, 59.91
    k = 2.0  # longitude degrees per metre are ~2x latitude degrees here
    with factory() as s:
        org = organizations.create_organization(s, "Bench kommune")
        area_poly = Polygon(
            [
                (lon0 - side * k, lat0 - side),
                (lon0 + (cols + 1) * side * k, lat0 - side),
                (lon0 + (cols + 1) * side * k, lat0 + (cols + 1) * side),
                (lon0 - side * k, lat0 + (cols + 1) * side),
            ]
        )
        area = Area(organization_id=org.id, name="Grünerløkka", geometry=spatial.to_db(area_poly))
        s.add(area)
        s.flush()
        start = utcnow() - timedelta(hours=2)
        walk = Walk(
            organization_id=org.id, area_id=area.id, title="Kveldsvandring", join_code="BENCH014",
            status=WalkStatus.completed, starts_at=start, ends_at=start + timedelta(hours=2),
            route=spatial.to_db(LineString([(lon0, lat0), (lon0 + cols * side * k, lat0 + cols * side)])),
        )  # fmt: skip
        s.add(walk)
        s.flush()
        groups = list(ParticipantGroup)
        people = [
            Participant(organization_id=org.id, walk_id=walk.id, group=groups[i % len(groups)])
            for i in range(24)
        ]
        s.add_all(people)
        s.flush()
        cats = {c.code: c for c in s.query(Category).filter(Category.organization_id == org.id)}
        for i in range(n):
            x, y = i % cols, i // cols
            point = spatial.point(lon0 + x * side * k, lat0 + y * side)
            obs = Observation(
                id=uuid.uuid4(), organization_id=org.id, walk_id=walk.id,
                participant_id=people[i % len(people)].id,
                category_id=cats[CATEGORIES[i % len(CATEGORIES)]].id,
                severity=1 + i % 3, perceived_safety=i % 4,
                note=f"Observasjon {i}: " + "mørkt og uoversiktlig, " * (1 + i % 4),
                recorded_at=start + timedelta(seconds=10 * i), moderation=Moderation.accepted,
                body_hash=f"{i:064d}",
            )  # fmt: skip
            place(s, obs, point)
            s.add(obs)
            s.flush()
            item_domain.observation_changed(s, obs)
            digest, size = pictures[i % len(pictures)]
            s.add(
                Photo(
                    id=uuid.uuid4(),
                    organization_id=org.id,
                    observation_id=obs.id,
                    upload_sha256=digest,
                    sha256=digest,
                    media_type="image/jpeg",
                    size_bytes=size,
                    width=512,
                    height=384,
                )  # fmt: skip
            )
        s.commit()
        ids = (org.id, walk.id, area.id)
    engine.dispose()
    return ids


def measure(fn: Callable[[], bytes]) -> tuple[float, float, int]:
    fn()  # warm-up: fonts registered, caches filled
    t = time.perf_counter()
    body = fn()
    elapsed = time.perf_counter() - t
    # Memory in a run of its own: tracemalloc slows Python down several times.
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 1e6, len(body)


def run(backend: str, n: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
    name = "safewalk_bench_report"
    url = create_scratch(backend, name, tmp)
    media = MediaStore(tmp / "media")
    try:
        t = time.perf_counter()
        org_id, walk_id, area_id = seed(url, media, n)
        print(
            f"[{backend}] seeded {n} observations/items with photos in {time.perf_counter() - t:.1f} s"
        )
        engine = create_db_engine(url)
        factory = make_sessionmaker(engine)
        with factory() as s:
            org = s.get(Organization, org_id)
            walk = s.get(Walk, walk_id)
            area = s.get(Area, area_id)
            if org is None or walk is None or area is None:
                raise SystemExit("the seeded rows are missing")
            listing = data.walk_listing(s, org, walk)
            assert len(listing.items) == n, (len(listing.items), n)

            def report() -> bytes:
                return pdf.walk_report_pdf(data.walk_listing(s, org, walk), media)

            def area_pdf() -> bytes:
                return pdf.action_list_pdf(data.area_listing(s, org, area, include_closed=False))

            def area_xlsx() -> bytes:
                listing = data.area_listing(s, org, area, include_closed=False)
                return xlsx.action_list_xlsx(listing, lambda pid: f"https://x/{pid}")

            def area_gpkg() -> bytes:
                return gpkg.action_list_gpkg(data.area_listing(s, org, area, include_closed=False))

            results = {}
            for label, fn in (
                ("walk report PDF", report),
                ("action list PDF", area_pdf),
                ("action list XLSX", area_xlsx),
                ("action list GeoPackage", area_gpkg),
            ):
                results[label] = measure(fn)
                secs, peak, size = results[label]
                print(
                    f"[{backend}] {label:24s} {secs:6.2f} s  peak Python memory {peak:6.1f} MB  {size / 1e6:5.2f} MB"
                )
            base = results["walk report PDF"][0]
            for label, (secs, _, _) in results.items():
                print(f"[{backend}] {label:24s} {secs / base:5.2f}x the walk report's time")
        engine.dispose()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"[{backend}] process max resident size {rss:.0f} MB")
    finally:
        drop_scratch(backend, name)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"], default="both")
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    for backend in ["spatialite", "postgis"] if args.backend == "both" else [args.backend]:
        run(backend, args.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
