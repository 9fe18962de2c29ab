"""`make bench`: every benchmark under bench/, one after another (so they do not share the
two cores), each printing the ratios it measured in its own run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
RUNS = [
    ["bench_grouping.py", "100000"],
    ["bench_hotspots_pure.py"],
    ["bench_lights.py"],
    ["bench_plausibility.py"],
    ["bench_assign.py", "--n", "100000"],
    ["bench_regroup.py", "--size", "100000"],
    ["bench_feeds.py", "--backend", "postgis", "--n", "100000", "1000000"],
    ["bench_feeds.py", "--backend", "spatialite", "--n", "100000"],
    ["bench_hotspots.py", "--n", "1000000"],
    ["bench_hotspots.py", "--url", "sqlite:///var/bench_hotspots.db", "--n", "100000"],
    ["bench_readers.py", "--backend", "postgis", "--items-n", "100000", "--tiles-n", "1000000"],
    ["bench_readers.py", "--backend", "spatialite", "--items-n", "100000", "--tiles-n", "100000"],
    ["bench_report.py", "--n", "500"],
    ["bench_field_app.py", "--runs", "3"],
    ["bench_staff_map.py", "--backend", "spatialite", "--n", "10000"],
    ["bench_staff_map.py", "--backend", "postgis", "--n", "10000"],
    ["bench_purge.py", "--backend", "spatialite", "--n", "100000"],
    ["bench_purge.py", "--backend", "postgis", "--n", "100000"],
    ["bench_follow_up.py", "--backend", "postgis", "--size", "500000"],
    ["bench_follow_up.py", "--backend", "postgis", "--size", "500000", "--share", "0.13"],
    ["bench_follow_up.py", "--backend", "spatialite", "--size", "50000"],
    # Against a real server (PostGIS: 2 uvicorn workers, SQLite: 1) on loopback.
    ["bench_ingest.py", "--backend", "postgis", "--backend", "spatialite", "--n", "4000"],
    ["bench_walk_group.py", "--backend", "postgis", "--phones", "20", "--each", "40"],
    [
        "load.py",
        "--db",
        "postgis",
        "--db",
        "spatialite",
        "--clients",
        "50",
        "200",
        "--seconds",
        "30",
    ],
    ["bench_feed_memory.py", "--backend", "postgis", "--n", "1000000"],
    ["bench_feed_memory.py", "--backend", "spatialite", "--n", "100000"],
    ["bench_tenancy.py", "--n", "100000", "--captures", "200"],
    ["bench_notify.py", "--backend", "spatialite", "--n", "10000"],
    ["bench_notify.py", "--backend", "postgis", "--n", "10000"],
]


def main() -> int:
    failed = 0
    for script, *args in RUNS:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        failed += subprocess.call([sys.executable, str(HERE / script), *args]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
