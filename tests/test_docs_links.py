"""The documentation holds together: every relative link in README.md, CHANGELOG.md and
docs/*.md points at a file that exists and, with a ``#fragment``, at a heading in it; the README
stays a short door whose commands are the Makefile's; history stays in the CHANGELOG."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [ROOT / "README.md", ROOT / "CHANGELOG.md", *(ROOT / "docs").glob("*.md")],
    key=lambda p: p.relative_to(ROOT).as_posix(),
)
# Written on another branch at the same time as the pages that link to it. Once it exists it is
# checked like any other page (anchors included); until then a link to it is accepted.
WRITTEN_ELSEWHERE = {"docs/testing.md"}

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`[^`]*`")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in _prose_lines(page.read_text(encoding="utf-8")):
        m = HEADING.match(line)
        if not m:
            continue
        base = github_anchor(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def relative_links(page: Path) -> list[str]:
    links = []
    for line in _prose_lines(page.read_text(encoding="utf-8")):
        for target in LINK.findall(INLINE_CODE.sub("", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, mailto:, ...
                continue
            links.append(target)
    return links


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_points_at_a_file_and_heading(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path_part, _, fragment = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        name = dest.relative_to(ROOT).as_posix() if dest.is_relative_to(ROOT) else str(dest)
        if not dest.exists():
            if name not in WRITTEN_ELSEWHERE:
                broken.append(f"{target} (no file {name})")
            continue
        if fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(f"{target} (no heading #{fragment} in {name})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_github_anchor_matches_githubs_rules() -> None:
    assert github_anchor("`SAFEWALK_DB_POOL_SIZE`") == "safewalk_db_pool_size"
    assert github_anchor("OGC API – Features") == "ogc-api--features"
    assert github_anchor("The field app (`/app/`)") == "the-field-app-app"
    assert github_anchor("Backup and restore") == "backup-and-restore"


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [bad](#nope) [gone](missing.md)\n", "utf-8")
    assert relative_links(page) == ["#title", "#nope", "missing.md"]
    assert anchors(page) == {"title"}


def test_readme_is_a_short_door_with_the_makefiles_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200, "README.md is the door: keep it under 200 lines"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", text))
    assert {"run", "test"} <= named
    assert named <= targets, f"README names make targets the Makefile lacks: {named - targets}"


@pytest.mark.parametrize(
    "page", [p for p in PAGES if p.name != "CHANGELOG.md"], ids=lambda p: p.name
)
def test_history_stays_in_the_changelog(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    found = re.findall(r"\b(?:wave|issue)\s+\d+", text, flags=re.IGNORECASE)
    assert not found, f"{page.relative_to(ROOT)} tells history ({found}): move it to CHANGELOG.md"
