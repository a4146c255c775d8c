"""The project's documents stand on their own: every relative link in them leads to a file or
folder of the repository (nothing outside it, nothing missing)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# [text](target) and <a href="target">, minus anchors and absolute URLs.
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|href=\"([^\"]+)\"")


def documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "SECURITY.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_stays_inside_the_repository_and_exists() -> None:
    checked = 0
    for document in documents():
        for match in LINK.finditer(document.read_text()):
            target = (match.group(1) or match.group(2)).split("#", 1)[0]
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # an anchor in the same page, or an absolute URL
            resolved = (document.parent / target).resolve()
            where = f"{document.relative_to(ROOT)} links to {target}"
            assert resolved.is_relative_to(ROOT), f"{where}, outside the repository"
            assert resolved.exists(), f"{where}, which does not exist"
            checked += 1
    assert checked > 0


def test_no_document_names_a_path_outside_the_repository() -> None:
    for document in documents():
        text = document.read_text()
        assert "../shared" not in text, document
