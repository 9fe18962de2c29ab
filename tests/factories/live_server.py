"""A real safewalk server for tests: `safewalk serve` in a child process on a free loopback port.

The ASGI transport runs requests one after another in the test's thread and hides races,
crashes and keep-alive behaviour. Tests of concurrency, throttles, crashes, replicas and the
browser apps use this instead: a real uvicorn, a real socket, a real database that the test
process seeds and reads through its own engine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

from api.auth.security import issue_token
from api.core.tenancy import APP_ROLE
from api.settings import Settings
from models import utcnow
from tests.factories.ports import free_port

SECRET = "live-test-secret-key-long-enough-for-hs256-0123456789abcdefghijklmnopqrstu"
# The Redis of the replica and throttle-store tests (.ci/run starts one).
REDIS_URL = "redis://127.0.0.1:6379/0"


def staff_token_for(user_id: uuid.UUID, organization_id: uuid.UUID) -> str:
    """A staff token a live server (started with ``SECRET``) accepts, valid for an hour."""
    return issue_token(
        secret=SECRET,
        settings=Settings(environment="test", secret_key=SECRET),
        kind="staff",
        subject=user_id,
        organization_id=organization_id,
        expires_at=utcnow() + timedelta(hours=1),
    )


class LiveServer:
    """Start with ``with LiveServer(url, data_dir) as server:``; ``server.base`` is its origin.

    The database at ``database_url`` must already be migrated (the server is started with
    ``--no-migrate`` so that two servers on one database never race on migrations).
    """

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        *,
        env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.extra_env = env or {}
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    # Generous: on a shared 2-core machine under load, importing the app alone takes 25 s; a
    # server that starts quickly is not kept waiting by it.
    def start(self, timeout: float = 90.0) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "SAFEWALK_DATABASE_URL": self.database_url,
            "SAFEWALK_DATA_DIR": str(self.data_dir),
            "SAFEWALK_SECRET_KEY": SECRET,
            "SAFEWALK_ENVIRONMENT": "test",
            # On PostgreSQL the server acts as the app role, under row-level security, as in
            # production; the test seeds and checks through its own (owner) engine.
            **(
                {"SAFEWALK_DATABASE_ROLE": APP_ROLE}
                if self.database_url.startswith("postgresql")
                else {}
            ),
            **self.extra_env,
        }
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.proc = self._spawn(env, log)
        deadline = time.monotonic() + timeout
        # One client for all the polls: httpx.get() builds a client, and with it an SSL context
        # from the CA bundle, every time (25 ms of CPU). A start under load takes 10-25 s, so
        # polling that way cost the test process seconds of CPU per server.
        with httpx.Client(timeout=1.0) as probe:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited early:\n{self.log()}")
                try:
                    if probe.get(f"{self.base}/readyz").status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not become ready in {timeout} s:\n{self.log()}")

    def _spawn(self, env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "api.cli",
                "serve",
                "--no-migrate",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )

    def log(self, tail: int | None = 5000) -> str:
        """The server's output: the last ``tail`` characters, or all of it with ``tail=None``."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return text if tail is None else text[-tail:]

    def kill(self) -> None:
        """kill -9: no shutdown, no flush, as a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
