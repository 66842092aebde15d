"""docs/testing.md as written: its first example runs as a script, and its pytest example
runs in a fresh project with the ``fake_exchange`` plugin it enables (``pytest_plugins``),
in pytest-asyncio's strict mode, closing every fake it started. The plugin is opt-in: no
``pytest11`` entry point, so pytest does not rewrite the whole package in every run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "testing.md"
CODE = re.compile(r"```python\n(.*?)```", re.S)


EXTRA = """

import socket
from urllib.parse import urlsplit

URLS = []


@pytest.mark.asyncio
async def test_two_fakes_in_one_test(fake_exchange):
    for fake in (await fake_exchange("binance-spot", rate=0), await fake_exchange("bybit", rate=0)):
        URLS.extend(venue.url for venue in fake.venues.values())
        assert fake.redirects


def test_they_were_closed_after_it():
    assert len(URLS) >= 3
    for url in URLS:
        parts = urlsplit(url)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((parts.hostname, parts.port), timeout=5).close()
"""


def _blocks() -> list[str]:
    return CODE.findall(PAGE.read_text())


#: a user's project: strict asyncio mode (pytest-asyncio's default), warnings are errors
PYTEST = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error",
          "-o", "asyncio_default_fixture_loop_scope=function"]  # fmt: skip


def _run(
    args: list[str], cwd: Path, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("PYTEST_ADDOPTS", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env
    )


def test_the_plugin_is_opt_in_so_pytest_does_not_rewrite_the_package() -> None:
    plugins = {e.value for e in entry_points(group="pytest11")}
    assert not any(value.startswith("datastores") for value in plugins)


def test_pytest_rewrites_only_what_the_project_asks_for(pytestconfig: pytest.Config) -> None:
    # With an entry point, pytest marked every module of the distribution for assertion
    # rewriting (each import then parsed by pytest; CPython 3.11.7's ast.parse could fail
    # there with "AST constructor recursion depth mismatch").
    hook = pytestconfig.pluginmanager.rewrite_hook
    assert "datastores" not in getattr(hook, "_must_rewrite", set())


def test_the_first_example_of_the_page_runs_as_written(tmp_path: Path) -> None:
    first = _blocks()[0]
    assert "..." not in first
    script = tmp_path / "first.py"
    script.write_text(first)
    result = _run([str(script)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pytest_example_runs_with_the_fixture_and_closes_its_fakes(tmp_path: Path) -> None:
    example = next(block for block in _blocks() if "fake_exchange" in block)
    # Appended to the documented test: two fakes in one test, both closed after it.
    (tmp_path / "test_doc.py").write_text(example + EXTRA)
    result = _run([*PYTEST, "test_doc.py"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_without_pytest_asyncio_the_fixture_says_what_it_needs(tmp_path: Path) -> None:
    # pytest-asyncio hidden: a package of its name that cannot be imported comes first
    hidden = tmp_path / "hidden" / "pytest_asyncio"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    (tmp_path / "test_no_asyncio.py").write_text("def test_needs(fake_exchange):\n    pass\n")
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio"]
    args += ["-p", "datastores.testing.pytest_plugin", "test_no_asyncio.py"]
    result = _run(
        args,
        tmp_path,
        pythonpath=tmp_path / "hidden",
    )
    assert result.returncode != 0
    assert "needs pytest-asyncio: pip install pytest-asyncio" in result.stdout
