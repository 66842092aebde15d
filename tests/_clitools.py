"""Tools of the command-line tests."""

from __future__ import annotations

import asyncio

import pytest

from datastores._cli import build_parser, run_until_interrupted
from datastores._cli.record import run_record


def record_until_synced(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``datastores record`` (its command, run as main() runs it) stopped as by Ctrl-C
    once it printed that the book synced; returns the exit code and the output.

    A recording of a fixed 0.5 s counted the connection too: on a loaded machine it
    could end before the stream's snapshot came, and the replay found the book
    unsynced. ``--seconds`` in ``argv`` now only bounds a hang.
    """
    args = build_parser().parse_args(argv)
    printed: list[str] = []

    async def stop_once_synced(stop: asyncio.Event) -> None:
        while "event: book synced" not in "".join(printed):
            await asyncio.sleep(0.01)
            printed.append(capsys.readouterr().out)
        stop.set()

    async def command(stop: asyncio.Event) -> int:
        watcher = asyncio.ensure_future(stop_once_synced(stop))
        try:
            return await run_record(args, stop)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    code = run_until_interrupted(command)
    return code, "".join(printed) + capsys.readouterr().out
