"""Resident memory of an idle `safewalk serve` worker, against a bare FastAPI app under uvicorn
started the same way in the same run.

The server is migrated first, then started, asked for /readyz, the web apps and a few reads
(so the database, SpatiaLite and the routes' first imports have happened), left alone for a
moment, and its VmRSS read from /proc. Heavy writers (ReportLab, openpyxl, pyogrio with
pandas) are imported by the request that needs them, so they are not part of this figure.

    python bench/bench_idle_memory.py [--goal-mb 150] [--postgres-url URL]

Both databases are measured: SQLite + SpatiaLite (the embedded default, which also maps the
wheels' native libraries before SpatiaLite, see api/core/db.py) and PostgreSQL + PostGIS
(production), in a database created for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ANCHOR_APP = """
from fastapi import FastAPI
app = FastAPI()

@app.get("/readyz")
def readyz() -> dict[str, str]:
    return {"status": "ok"}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def wait_ready(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no /readyz on port {port} within {timeout} s")


def touch(port: int, paths: list[str]) -> None:
    for path in paths:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).read()
        except urllib.error.HTTPError:
            pass  # 401 for a protected read still runs its imports


def measure(cmd: list[str], env: dict[str, str], port: int, paths: list[str], cwd: Path) -> float:
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_ready(port)
        touch(port, paths)
        time.sleep(2.0)
        return rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def postgres_database(admin_url: str, name: str, *, drop: bool = False) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if drop:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goal-mb", type=float, default=150.0)
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    name = f"safewalk_bench_memory_{os.getpid()}"
    try:
        results = {
            "SQLite + SpatiaLite": run_one(None),
            "PostgreSQL + PostGIS": run_one(postgres_database(args.postgres_url, name)),
        }
    finally:
        postgres_database(args.postgres_url, name, drop=True)
    for label, (served, anchor) in results.items():
        met = "yes" if served <= args.goal_mb else "no"
        print(
            f"{label}: idle worker {served:.0f} MB, bare FastAPI app {anchor:.0f} MB, "
            f"ratio {served / anchor:.2f}x, goal <= {args.goal_mb:.0f} MB: {met}"
        )


def run_one(database_url: str | None) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env = dict(os.environ, SAFEWALK_DATA_DIR=str(data), SAFEWALK_ENVIRONMENT="development")
        if database_url:
            env["SAFEWALK_DATABASE_URL"] = database_url
        subprocess.run(
            [sys.executable, "-m", "api.cli", "migrate"],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )

        (data / "anchor_app.py").write_text(ANCHOR_APP)
        port = free_port()
        anchor = measure(
            [sys.executable, "-m", "uvicorn", "anchor_app:app", "--port", str(port)],
            env,
            port,
            ["/readyz"],
            data,
        )

        port = free_port()
        paths = ["/readyz", "/healthz", "/", "/app/", "/api/v1/categories", "/ogc", "/docs"]
        served = measure(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env,
            port,
            paths,
            ROOT,
        )
    return served, anchor


if __name__ == "__main__":
    main()
