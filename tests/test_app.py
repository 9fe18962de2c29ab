"""The app a worker starts holds no heavy library it does not need yet: each is imported by the
request or job that uses it (a PDF, a spreadsheet, a GeoPackage, a photo, a projection, an
outgoing webhook), so an idle worker stays small (bench/bench_idle_memory.py prints its size)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# pandas, geopandas, scipy, ReportLab, pyogrio and openpyxl are the writers' and readers' of
# files; Pillow the photos'; pyproj the projections'; httpx the outgoing requests'.
HEAVY = (
    "pandas", "geopandas", "scipy", "reportlab", "pyogrio", "openpyxl", "PIL", "pyproj", "httpx",
)  # fmt: skip

PROBE = """
import json, sys
from api.app import create_app
create_app()
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _started(tmp_path: Path, probe: str = PROBE) -> set[str]:
    env = {
        **os.environ,
        "SAFEWALK_ENVIRONMENT": "development",
        "SAFEWALK_DATA_DIR": str(tmp_path),
        "SAFEWALK_DATABASE_URL": f"sqlite:///{(tmp_path / 'x.db').as_posix()}",
    }
    env.pop("SAFEWALK_OWNER_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.splitlines()[-1]))


def test_an_app_at_start_has_imported_no_heavy_library(tmp_path: Path) -> None:
    loaded = _started(tmp_path)
    assert {"api", "fastapi"} <= loaded  # the probe saw the app itself
    assert sorted(loaded & set(HEAVY)) == []


@pytest.mark.parametrize("library", ["pyproj", "PIL"])
def test_the_probe_sees_a_library_imported_at_start(tmp_path: Path, library: str) -> None:
    # The same probe, with one heavy library imported beside the app, reports it: the check
    # above can fail.
    loaded = _started(tmp_path, f"import {library}\n{PROBE}")
    assert library in loaded
