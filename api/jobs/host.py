"""What a job loop needs of the process it runs in: the app's ``state``, which holds the
settings and the session factory. The web app is such a host, and so is a test's stand-in;
no job needs to know it runs inside a web framework."""

from __future__ import annotations

from typing import Any, Protocol


class Host(Protocol):
    state: Any
