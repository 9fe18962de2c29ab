"""Free loopback ports for the servers tests start, apart per pytest-xdist worker.

Asking the kernel for port 0 and closing the socket leaves a window in which another worker's
server (or an outgoing connection) may take the same port. Each worker instead takes ports from
a block of its own, below the kernel's ephemeral range (32768 and up on Linux), so workers never
hand out the same port and the kernel never hands it to a client socket.
"""

from __future__ import annotations

import itertools
import os
import random
import socket

_BLOCK = 1000
_FIRST = 20000


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # "gw3" under -n; unset without
    digits = worker.removeprefix("gw")
    return int(digits) if digits.isdigit() else 0


# From a random place in the block: two test runs on one machine (two checkouts) share the
# blocks, and both starting at the block's first port would pick the same one at the same
# moment, before either server has bound it; the later server then fails to bind and the test
# talks to the other run's server.
_next = itertools.count(random.randrange(_BLOCK))


def free_port() -> int:
    """A loopback port nobody listens on, from this worker's block."""
    start = _FIRST + (_worker_index() % 12) * _BLOCK
    for _ in range(_BLOCK):
        port = start + next(_next) % _BLOCK
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:  # in use (another test run on this machine, a server still open)
                continue
            return port
    raise RuntimeError(f"no free loopback port in {start}..{start + _BLOCK - 1}")
