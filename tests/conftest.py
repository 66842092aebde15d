"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _bookimpl import IMPLS, Impl, use

ROOT = Path(__file__).resolve().parent.parent

RunDemo = Callable[..., subprocess.CompletedProcess[str]]
DemoSummary = Callable[[str], dict[str, str]]


def _run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m datastores demo ARGS`` in a subprocess, output captured, no terminal."""
    env = {**os.environ, "PYTHONWARNINGS": "default", "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONASYNCIODEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "datastores", "demo", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


def _summary(out: str) -> dict[str, str]:
    """The demo's one ``summary: key=value ...`` line, as a dict."""
    lines = [line for line in out.splitlines() if line.startswith("summary: ")]
    assert len(lines) == 1, out
    return dict(pair.split("=", 1) for pair in lines[0][len("summary: ") :].split())


@pytest.fixture
def run_demo() -> RunDemo:
    """Run ``datastores demo`` with the given arguments in a subprocess."""
    return _run_demo


@pytest.fixture
def demo_summary() -> DemoSummary:
    """Parse the demo's ``summary:`` line (exactly one must be printed)."""
    return _summary


@pytest.fixture(scope="module", params=list(IMPLS))
def book_impl(request: pytest.FixtureRequest) -> Iterator[Impl]:
    """Run a book test module once per book-side implementation (pure Python, and
    the C extension when it was built): see ``tests/_bookimpl.py``."""
    impl = IMPLS[request.param]
    with pytest.MonkeyPatch.context() as patch:
        use(impl, patch)
        yield impl
