"""Benchmark: `safewalk purge` over an organization's history, files included.

    python bench/bench_purge.py [--backend spatialite|postgis] [--n 100000] [--photo-share 0.1]

Loads N observations recorded two years ago (notes on all, a photo with three files on a share
of them), in items that were closed long ago, into a scratch database and a scratch media
store, plus as many orphaned files as photos. Then times, in the same run: the purge of N/10
observations' worth (the anchor, loaded and purged the same way), the purge of N, and a second
purge of N that finds nothing (idempotence should be cheap: it runs every day). Prints the
seconds and the ratios: N against the anchor (10 means linear), and the empty run against the
full one.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from _common import create_scratch, drop_scratch
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.auth import organizations  # noqa: E402
from api.core import spatial  # noqa: E402
from api.core.db import create_db_engine, make_sessionmaker  # noqa: E402
from api.core.media import MediaStore  # noqa: E402
from api.privacy import retention  # noqa: E402
from models import (  # noqa: E402
    ActionItem,
    ActionStatus,
    Category,
    Observation,
    Participant,
    ParticipantGroup,
    Photo,
    Walk,
    WalkStatus,
    utcnow,
)

PER_ITEM = 5


def load(url: str, store: MediaStore, n: int, photo_share: float) -> None:
    engine = create_db_engine(url)
    factory = make_sessionmaker(engine)
    t0 = utcnow() - timedelta(days=800)
    with factory() as s:
        org = organizations.create_organization(s, "Bench", f"bench-{uuid.uuid4().hex[:6]}")
        cat = s.query(Category).filter_by(organization_id=org.id, code="lighting").one()
        walk = Walk(
            organization_id=org.id, title="bench", join_code=uuid.uuid4().hex[:8].upper(),
            status=WalkStatus.completed, ends_at=t0, updated_at=t0,
        )  # fmt: skip
        s.add(walk)
        s.flush()
        people = [
            Participant(
                organization_id=org.id,
                walk_id=walk.id,
                group=ParticipantGroup.resident,
                display_name=f"P{i}",
            )  # fmt: skip
            for i in range(max(1, n // 50))
        ]
        s.add_all(people)
        s.flush()
        here = spatial.to_db(spatial.point(5.735, 58.852))
        item_rows = [
            {
                "id": uuid.uuid4(),
                "organization_id": org.id,
                "category_id": cat.id,
                "title": "Lamp out",
                "location": here,
                "status": ActionStatus.resolved.value,
                "resolved_at": t0,
                "updated_at": t0,
                "created_at": t0,
                "version": 1,
                "participant_groups": [],
                "observation_count": PER_ITEM,
                "owner_type": "municipality",
                "title_edited": False,
                "priority_score": 0.0,
            }  # fmt: skip
            for _ in range(max(1, n // PER_ITEM))
        ]
        s.execute(insert(ActionItem), item_rows)
        obs_rows = []
        photo_rows = []
        every = int(1 / photo_share) if photo_share > 0 else 0
        for i in range(n):
            oid = uuid.uuid4()
            obs_rows.append(
                {
                    "id": oid,
                    "organization_id": org.id,
                    "walk_id": walk.id,
                    "participant_id": people[i % len(people)].id,
                    "category_id": cat.id,
                    "location": here,
                    "note": "Dark path behind the school",
                    "recorded_at": t0,
                    "received_at": t0,
                    "moderation": "accepted",
                    "body_hash": "0" * 64,
                    "action_item_id": item_rows[i // PER_ITEM % len(item_rows)]["id"],
                }  # fmt: skip
            )
            if every and i % every == 0:
                data = os.urandom(64)
                sha = hashlib.sha256(data).hexdigest()
                for size in ("original", "display", "thumb"):
                    store.put(data, f"{size}.jpg", digest=sha)
                store.put(os.urandom(64), "original.jpg")  # an orphan
                photo_rows.append(
                    {
                        "id": uuid.uuid4(),
                        "organization_id": org.id,
                        "observation_id": oid,
                        "upload_sha256": sha,
                        "sha256": sha,
                        "media_type": "image/jpeg",
                        "size_bytes": 64,
                        "width": 1,
                        "height": 1,
                        "created_at": t0,
                    }  # fmt: skip
                )
        for start in range(0, n, 5000):
            s.execute(insert(Observation), obs_rows[start : start + 5000])
        if photo_rows:
            s.execute(insert(Photo), photo_rows)
        s.commit()
    engine.dispose()
    old = time.time() - 7200
    for found in store.files():
        os.utime(found.path, (old, old))


def timed_purge(url: str, store: MediaStore) -> tuple[float, retention.PurgeReport]:
    engine = create_db_engine(url)
    try:
        start = time.perf_counter()
        report = retention.purge(make_sessionmaker(engine), store)
        return time.perf_counter() - start, report
    finally:
        engine.dispose()


def run(backend: str, n: int, photo_share: float, tmp: Path, tag: str) -> tuple[float, float]:
    name = f"bench_purge_{tag}_{uuid.uuid4().hex[:6]}"
    url = create_scratch(backend, name, tmp)
    store = MediaStore(tmp / f"media-{tag}")
    try:
        load(url, store, n, photo_share)
        first, report = timed_purge(url, store)
        removal = report.organizations[0].removal
        sweep = report.sweep or retention.SweepReport()
        assert removal.notes == n, removal
        print(
            f"  n={n}: {first:.2f} s ({removal.notes} notes, {removal.photos} photos, "
            f"{removal.files} files, {removal.participants} names; "
            f"{sweep.orphan_files} orphans swept)"
        )
        second, again = timed_purge(url, store)
        assert not again.changed
        print(f"  n={n}, second run (nothing to do): {second:.2f} s")
        return first, second
    finally:
        drop_scratch(backend, name)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="spatialite", choices=["spatialite", "postgis"])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--photo-share", type=float, default=0.1)
    args = parser.parse_args()
    print(f"purge on {args.backend}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        anchor, _ = run(args.backend, args.n // 10, args.photo_share, tmp, "anchor")
        full, empty = run(args.backend, args.n, args.photo_share, tmp, "full")
    print(f"n / (n/10): {full / anchor:.1f}x (10 = linear)")
    print(f"second run / first run at n: {empty / full:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
