"""What a user installs: metadata (license, URLs, classifiers, extras), LICENSE, CHANGELOG, a
README that reads correctly as the package description, ``datastores --version``, and an
editable install that mypy sees. Nothing is built or downloaded: the installed metadata
(``importlib.metadata``) is what pip wrote from pyproject.toml."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import metadata, requires, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import datastores
from datastores._cli import main

ROOT = Path(__file__).resolve().parent.parent
META = metadata("datastores")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _urls() -> dict[str, str]:
    return dict(entry.split(", ", 1) for entry in META.get_all("Project-URL") or [])


def test_version_license_and_classifiers() -> None:
    assert version("datastores") == datastores.__version__
    assert META["License-Expression"] == "MIT"
    assert "LICENSE" in (META.get_all("License-File") or [])
    assert META["Requires-Python"] == ">=3.10"
    classifiers = set(META.get_all("Classifier") or [])
    for expected in (
        "Typing :: Typed",
        "Framework :: AsyncIO",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3 :: Only",
    ):
        assert expected in classifiers
    # the declared Python versions start at requires-python's
    minors = sorted(
        int(c.rsplit(".", 1)[1])
        for c in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    assert minors[0] == 10
    assert minors == list(range(10, minors[-1] + 1))


def test_project_urls() -> None:
    urls = _urls()
    assert set(urls) >= {"Homepage", "Documentation", "Source", "Changelog", "Issues"}
    assert all(url.startswith("https://") for url in urls.values())
    assert urls["Changelog"].endswith("/CHANGELOG.md")


def test_the_all_extra_is_every_user_facing_extra() -> None:
    extras = set(META.get_all("Provides-Extra") or [])
    assert extras >= {"fast", "view", "hyperliquid", "all", "dev", "bench"}
    by_extra: dict[str, set[str]] = {}
    for line in requires("datastores") or []:
        requirement = Requirement(line)
        for extra in extras:
            if requirement.marker is not None and requirement.marker.evaluate({"extra": extra}):
                by_extra.setdefault(extra, set()).add(line)
    [everything] = [Requirement(line) for line in by_extra["all"]]
    assert everything.name == "datastores"
    assert everything.extras == extras - {"all", "dev", "bench", "docs"}
    # runtime dependencies stay aiohttp and sortedcontainers
    runtime = {Requirement(r).name for r in requires("datastores") or [] if "extra ==" not in r}
    assert runtime == {"aiohttp", "sortedcontainers"}


def test_license_file_matches_the_declared_license() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the datastores authors" in text
    assert "Permission is hereby granted, free of charge" in text


def test_changelog_has_the_current_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text
    assert f"## [{datastores.__version__}]" in text


def test_readme_starts_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert lines[0] == "```sh"
    assert lines[1].startswith("scripts/demo ")
    assert lines[2].startswith("scripts/test ")
    assert lines[3] == "```"


def test_readme_links_are_absolute_and_name_files_that_exist() -> None:
    """It is the package description on the index too, where relative links break."""
    text = (ROOT / "README.md").read_text()
    home = _urls()["Source"].rstrip("/")
    links = LINK.findall(text)
    assert len(links) >= 5
    for link in links:
        if link.startswith("#"):
            heading = link[1:].replace("-", " ")
            assert re.search(rf"^#+ {heading}$", text, re.M | re.I), link
            continue
        assert link.startswith("https://"), link
        if link.startswith(home + "/"):
            path = re.sub(r"^(blob|tree)/main/", "", link[len(home) + 1 :])
            assert (ROOT / path).exists(), link


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"datastores {datastores.__version__} (Python ")


def _mypy(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(script.parent / ".mc"),
            script.name,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=script.parent,  # outside the checkout: no project config, as for a user
    )


def test_mypy_sees_the_editable_install_from_a_user_script(tmp_path: Path) -> None:
    """setuptools' editable finder is an import hook mypy cannot follow: mypy used to
    say "Cannot find implementation or library stub for module named 'datastores'"."""
    script = tmp_path / "bot.py"
    script.write_text(
        "import datastores\n\n"
        "store = datastores.BinanceSpotDataStore()\n"
        "synced: bool = store.orderbook.is_synced('BTCUSDT')\n"
        "wrong: int = store.orderbook.status('BTCUSDT')\n"
    )
    result = _mypy(script)
    assert "import-not-found" not in result.stdout, result.stdout
    # the types are datastores' own: the wrong annotation is caught, the right one is not
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, result.stdout
    assert "bot.py:5:" in errors[0]
    assert "BookStatus" in errors[0]
