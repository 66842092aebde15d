"""Find and run the code blocks of the documentation (docs/contributing.md has the rules).

A block is a fenced ``python``, ``sh`` or ``json`` block of a Markdown page. An
HTML comment on the line before the fence (invisible on the site and on GitHub)
says how it runs::

    <!-- run: fake=binance-spot -->
    <!-- run: continue -->
    <!-- run: fake=okx timeout=60 -->

* ``fake=VENUES`` (comma-separated venues or exchanges): a
  :class:`~datastores.testing.FakeExchange` serves them on 127.0.0.1 while the
  block runs, and every ``datastores.Client`` the block makes is pointed at it
  (its ``redirects`` and ``apis``), so the block keeps the real URLs and runs
  exactly as written.
* ``continue``: the block is the next part of the program the previous block of
  the page in the same language started; the parts run together, as one program
  (shell blocks: in the same folder).
* ``timeout=SECONDS``: how long the program may run (default 30).

Python blocks run as they are, top-level ``await`` included (it runs in an
event loop). A block with a fake that does not call ``asyncio.run()`` itself
(a fragment) runs in an event loop with ``client``, an open
``datastores.Client``, defined. Nothing reaches the internet: while a block runs,
host name lookups other than ``localhost``/``127.0.0.1`` fail. ``json`` blocks
must parse (one value, or one per line). For ``sh`` blocks see
:func:`check_shell_line`.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import json
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
ANNOTATION = re.compile(r"<!--\s*run:\s*(.*?)\s*-->\s*$")
RUNNABLE = {"python", "sh", "json"}
SNIPPET = re.compile(r'--8<-- "([^"]+)"')
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
#: how long a ``datastores demo`` command of a shell block runs (appended as --seconds)
DEMO_SECONDS = "2"


@dataclass
class Block:
    """One runnable program of a page: a block, plus the ``continue`` blocks after it."""

    page: Path
    line: int
    language: str
    source: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page.name
        return f"{page}:{self.line}"

    @property
    def included(self) -> Path | None:
        """The file a block made of one snippet line (``--8<-- "examples/x.py"``) shows."""
        match = SNIPPET.fullmatch(self.source.strip())
        return ROOT / match.group(1) if match else None

    @property
    def venues(self) -> list[str]:
        fake = self.options.get("fake", "")
        return [name for name in fake.split(",") if name]

    @property
    def timeout(self) -> float:
        return float(self.options.get("timeout", "30"))


def _options(text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for word in text.split():
        key, _, value = word.partition("=")
        options[key] = value
    unknown = set(options) - {"fake", "continue", "timeout"}
    if unknown:
        raise ValueError(f"unknown run option(s) {sorted(unknown)}")
    return options


def page_blocks(page: Path) -> list[Block]:
    """The runnable programs of ``page``, in order (``continue`` blocks joined)."""
    text = page.read_text(encoding="utf-8")
    blocks: list[Block] = []
    for match in FENCE.finditer(text):
        language = match.group(1)
        if language not in RUNNABLE:
            continue
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        annotation = ANNOTATION.search(before)
        options = _options(annotation.group(1)) if annotation else {}
        source = match.group(2)
        if "continue" in options:
            same = [block for block in blocks if block.language == language]
            if not same:
                raise ValueError(f"{page}:{line}: 'continue' needs a {language} block before it")
            same[-1].source += "\n" + source
            continue
        blocks.append(Block(page, line, language, source, options))
    return blocks


def all_blocks(pages: list[Path]) -> list[Block]:
    return [block for page in pages for block in page_blocks(page)]


# ------------------------------------------------------------------ guards


@contextlib.contextmanager
def no_internet() -> Iterator[None]:
    """Host name lookups other than the loopback fail while the block runs."""
    real = socket.getaddrinfo

    def local_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in LOCAL_HOSTS:
            raise socket.gaierror(f"docs examples never reach the internet ({name!r})")
        return real(host, *args, **kwargs)

    socket.getaddrinfo = local_only
    try:
        yield
    finally:
        socket.getaddrinfo = real


@contextlib.contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """Interrupt the main thread after ``seconds`` (a block that never ends fails)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"{what} still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------ fake exchange


class FakeInThread:
    """A FakeExchange running in its own thread and event loop, so the block under
    test can run its own ``asyncio.run()`` exactly as a user would."""

    def __init__(self, venues: list[str]) -> None:
        self._venues = venues
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.fake: Any = None

    def __enter__(self) -> Any:
        from datastores.testing import FakeExchange

        self._thread.start()

        async def start() -> Any:
            return await FakeExchange(self._venues, seed=1).start()

        self.fake = asyncio.run_coroutine_threadsafe(start(), self._loop).result(30)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        try:
            if self.fake is not None:
                asyncio.run_coroutine_threadsafe(self.fake.aclose(), self._loop).result(30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._loop.close()


def client_class_for(fake: Any) -> type[Any]:
    """A ``datastores.Client`` that always talks to ``fake`` with its keys."""
    import datastores

    class FakeRoutedClient(datastores.Client):
        def __init__(self, apis: Any = None, base_url: str = "", **kwargs: Any) -> None:
            kwargs["redirects"] = {**fake.redirects, **(kwargs.get("redirects") or {})}
            super().__init__(fake.apis, base_url, **kwargs)

    FakeRoutedClient.__name__ = FakeRoutedClient.__qualname__ = "Client"
    return FakeRoutedClient


# ------------------------------------------------------------------ python


def run_python(block: Block, namespace: dict[str, Any]) -> None:
    """Run a python block (top-level ``await`` runs in a new event loop)."""
    code = compile(
        block.source, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )
    namespace.setdefault("__name__", "__main__")
    if re.search(r"^(async )?def main\(", block.source, re.M):
        assert re.search(r"^(?!\s*(async\s+)?def )[^#\n]*\bmain\(\)", block.source, re.M), (
            f"{block.id}: defines main() but never runs it (add asyncio.run(main()))"
        )
    is_coroutine = bool(code.co_flags & inspect.CO_COROUTINE)
    # A fragment of a fake-exchange example runs in an event loop with ``client`` open;
    # a whole program (it calls asyncio.run itself) runs as it is.
    in_loop = is_coroutine or (bool(block.venues) and "asyncio.run(" not in block.source)
    if not in_loop:
        exec(code, namespace)
        return

    async def run() -> None:
        if is_coroutine:
            await eval(code, namespace)
        else:
            exec(code, namespace)

    async def main() -> None:
        if block.venues:
            import datastores

            async with datastores.Client() as client:
                namespace.setdefault("client", client)
                await run()
        else:
            await run()

    asyncio.run(main())


# ------------------------------------------------------------------- shell


def _extras() -> set[str]:
    from importlib.metadata import metadata

    return set(metadata("datastores").get_all("Provides-Extra") or [])


def _needs_internet(args: list[str]) -> bool:
    command = args[0] if args else ""
    return (
        command == "watch"
        or (command in ("record", "relay") and "--fake" not in args)
        # a mirror follows a relay running in another terminal (tests/apps/relay runs both)
        or command == "mirror"
    )


def check_shell_line(line: str, cwd: Path) -> str:
    """Check or run one command of a shell block; returns what was done.

    * ``datastores ARGS`` / ``python -m datastores ARGS``: parsed by the command
      line's own parser; run (in ``cwd``) unless it needs the internet
      (``watch``, ``record`` or ``relay`` without ``--fake``, ``mirror``, which
      follows a relay in another terminal); ``demo`` and ``relay`` run for
      :data:`DEMO_SECONDS` seconds (``--seconds`` is appended).
    * ``scripts/NAME``: the script exists and is executable (``scripts/test``
      is what runs this check, so it is not run again from here).
    * ``pip install ... '.[EXTRAS]'``: each extra exists in pyproject.toml.
    * ``python -m benchmarks.NAME``: the benchmark module exists.
    * ``mkdocs serve|build``: the site's configuration exists (``scripts/test``
      builds it strictly).

    Raises:
        AssertionError: the command is wrong, failed, or is none of these.
    """
    words = shlex.split(line, comments=True)
    if not words:
        return "empty"
    program = words[0].removeprefix(".venv/bin/")
    if program == "datastores" or words[:3] == ["python", "-m", "datastores"]:
        from datastores._cli import build_parser

        args = words[1:] if program == "datastores" else words[3:]
        parsed = build_parser().parse_args(args)  # SystemExit on a wrong option
        assert parsed.command, line
        if _needs_internet(args):
            return "parsed (needs the internet)"
        if args[0] in ("demo", "relay") and "--seconds" not in args:
            args = [*args, "--seconds", DEMO_SECONDS]
        result = subprocess.run(
            [sys.executable, "-m", "datastores", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        return "ran"
    if program.startswith("scripts/"):
        script = ROOT / program
        assert script.is_file(), line
        assert script.stat().st_mode & 0o111, f"{line}: not executable"
        return "script exists"
    if program in {"pip", "pip3"} or words[:3] == ["python", "-m", "pip"]:
        # the project itself: the checkout ('.', '.[extra]') or, from a wheel, 'datastores[extra]'
        targets = [w for w in words[1:] if w == "." or w.startswith((".[", "datastores"))]
        assert targets, f"{line}: install the project ('.[extra]' or 'datastores[extra]')"
        for target in targets:
            if "[" in target:
                wanted = set(target[target.index("[") + 1 : -1].split(","))
                assert wanted <= _extras(), f"{line}: unknown extras {wanted - _extras()}"
        return "extras exist"
    if words[:2] == ["python", "-m"] and words[2].startswith("benchmarks."):
        module = ROOT / (words[2].replace(".", "/") + ".py")
        assert module.is_file(), line
        return "benchmark exists"
    if program == "mkdocs":
        assert words[1] in {"serve", "build"}, line
        assert (ROOT / "mkdocs.yml").is_file()
        return "site configured"
    raise AssertionError(
        f"{line!r}: a docs shell command the docs tests cannot check; see docs/contributing.md"
    )


def run_json(block: Block) -> None:
    """A JSON value, or JSON lines (one value per line)."""
    try:
        json.loads(block.source)
    except json.JSONDecodeError:
        for line in block.source.splitlines():
            if line.strip():
                json.loads(line)
