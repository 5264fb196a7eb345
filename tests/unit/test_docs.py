"""The docs link only to what exists: every relative link in README.md, docs/ and the role READMEs names
a file of the repository."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def broken_links(files: list[Path]) -> list[tuple[str, str]]:
    """(page, target) of each relative link whose target does not exist beside the page."""
    return [(f.name, target) for f in files for target in LINK.findall(f.read_text())
            if not target.startswith(("http://", "https://", "mailto:")) and not (f.parent / target).exists()]


def test_every_relative_link_in_the_docs_exists():
    files = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md")),
             *sorted((REPO / "roles").glob("*/README.md"))]
    assert len(files) > 20
    assert broken_links(files) == []


def test_the_check_finds_a_broken_link(tmp_path):
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "here.md").write_text("# here\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](runbooks/here.md#top), [web](https://example.org/x.md), [gone](runbooks/none.md)\n")
    assert broken_links([page]) == [("page.md", "runbooks/none.md")]
