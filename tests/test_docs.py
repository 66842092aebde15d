"""The documentation builds: links resolve, code compiles, public names are documented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import datastores

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CODE = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text()
    for target in LINK.findall(text):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_examples_compile(page: Path) -> None:
    for block in CODE.findall(page.read_text()):
        ast.parse(block)


def test_every_page_is_reachable_from_the_index() -> None:
    index = ROOT / "docs" / "index.md"
    seen = {index}
    todo = [index]
    while todo:
        page = todo.pop()
        for target in LINK.findall(page.read_text()):
            path = (page.parent / target).resolve()
            if path.suffix == ".md" and path.exists() and path not in seen:
                seen.add(path)
                todo.append(path)
    pages = {p.resolve() for p in (ROOT / "docs").rglob("*.md")}
    assert pages - seen == set(), f"pages not linked from docs/index.md: {sorted(pages - seen)}"


def test_every_public_name_is_documented() -> None:
    text = "\n".join(p.read_text() for p in (ROOT / "docs").rglob("*.md"))
    missing = [n for n in datastores.__all__ if not n.startswith("_") and f"`{n}" not in text]
    assert missing == [], f"public names missing from docs/: {missing}"
