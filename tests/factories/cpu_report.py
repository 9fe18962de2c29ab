"""CPU per test, for measuring the suite on a loaded machine: opt in with
``-p tests.factories.cpu_report`` (and ``-n 0``), read ``build/cpu-report.tsv``.

Wall times on a shared machine say how busy the machine was; CPU seconds say what a test
costs. A test's cost is spread over processes: the pytest process, the ``safewalk serve``
children it starts, Chromium and its renderers. Before and after each test (setup, call and
teardown) this adds up the user and system time, read from ``/proc``, of the pytest process,
of every live descendant, and of the descendants already reaped (a process's ``cutime`` and
``cstime``). A descendant that exits without its parent waiting for it (Chromium's helper
processes) takes its CPU out of the sum, so a single row can come out low or even negative;
the rows of a module, and the ``TOTAL`` row, are the figures to compare. The PostgreSQL
server's own CPU is not a descendant and is not counted.

Columns: test id, CPU seconds, wall seconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

_TICK = os.sysconf("SC_CLK_TCK")
_OUT = Path(os.environ.get("SAFEWALK_CPU_REPORT", "build/cpu-report.tsv"))


def _stat(pid: int | str) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the state on: comm may hold spaces


def tree_cpu(root: int | None = None) -> float:
    """CPU seconds of ``root`` (this process by default), its live descendants and the
    descendants they have reaped."""
    root = root or os.getpid()
    children: dict[int, list[list[str]]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(entry)) is not None:
            children.setdefault(int(fields[1]), []).append([entry, *fields])
    own = _stat(root)
    ticks = sum(int(x) for x in own[11:15]) if own else 0  # utime stime cutime cstime
    stack = [root]
    while stack:
        for pid, *fields in children.get(stack.pop(), []):
            ticks += sum(int(x) for x in fields[11:15])
            stack.append(int(pid))
    return ticks / _TICK


class _Report:
    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.start = tree_cpu()

    def row(self, name: str, cpu: float, wall: float) -> None:
        self.out.write(f"{name}\t{cpu:.2f}\t{wall:.1f}\n")
        self.out.flush()


_report: _Report | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _report
    _OUT.parent.mkdir(parents=True, exist_ok=True)
    _report = _Report(_OUT.open("a", encoding="utf-8"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    cpu, wall = tree_cpu(), time.monotonic()
    yield
    if _report is not None:
        _report.row(item.nodeid, tree_cpu() - cpu, time.monotonic() - wall)


def pytest_sessionfinish(session: pytest.Session) -> None:
    global _report
    if _report is not None:
        _report.row("TOTAL", tree_cpu() - _report.start, 0)
        _report.out.close()
        _report = None
