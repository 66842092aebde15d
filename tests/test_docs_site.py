"""The documentation site: mkdocs.yml names existing pages, the API reference covers the API.

The site itself is built with ``mkdocs build --strict`` by ``scripts/test`` (a broken link,
anchor or ``:::`` reference fails it); these tests check what the build cannot know.
"""

from __future__ import annotations

import importlib
import re
import types
from pathlib import Path
from typing import Any

import datastores

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DIRECTIVE = re.compile(r"^::: ([\w.]+)", re.M)
NAV_PAGE = re.compile(r"^\s*- (?:[^:\n]+: )?([\w/.-]+\.md)\s*$", re.M)


def _resolve(path: str) -> Any:
    """The object a ``::: a.b.C`` directive documents."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ImportError(path)


def _documented() -> set[int]:
    """ids of every object the reference pages render (a module renders its public names)."""
    seen: set[int] = set()
    for page in (DOCS / "reference").glob("*.md"):
        for path in DIRECTIVE.findall(page.read_text()):
            found = _resolve(path)
            seen.add(id(found))
            if isinstance(found, types.ModuleType):
                names = getattr(found, "__all__", [n for n in vars(found) if n[:1] != "_"])
                seen.update(id(getattr(found, name)) for name in names)
    return seen


def test_every_public_name_is_in_the_api_reference() -> None:
    documented = _documented()
    missing = [
        name
        for name in datastores.__all__
        if name != "__version__" and id(getattr(datastores, name)) not in documented
    ]
    assert missing == [], f"add a ::: line to docs/reference/ for: {missing}"


def test_every_reference_directive_resolves() -> None:
    for page in (DOCS / "reference").glob("*.md"):
        for path in DIRECTIVE.findall(page.read_text()):
            assert _resolve(path) is not None, f"{page.name}: ::: {path}"


def test_the_nav_names_existing_pages_and_every_reference_page() -> None:
    nav = NAV_PAGE.findall((ROOT / "mkdocs.yml").read_text())
    assert "index.md" in nav
    missing = [page for page in nav if not (DOCS / page).is_file()]
    assert missing == [], f"mkdocs.yml nav names missing pages: {missing}"
    reference = {f"reference/{p.name}" for p in (DOCS / "reference").glob("*.md")}
    assert reference - set(nav) == set(), "a reference page is missing from the nav"
