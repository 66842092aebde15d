"""Every code block of the documentation runs as written (rules: docs/contributing.md).

Python blocks run (against a fake exchange when annotated ``<!-- run: fake=... -->``),
``sh`` blocks' commands are run or checked, ``json`` blocks parse. See ``_docblocks``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _docblocks import (
    ROOT,
    Block,
    FakeInThread,
    all_blocks,
    check_shell_line,
    client_class_for,
    deadline,
    no_internet,
    page_blocks,
    run_json,
    run_python,
)

import datastores

PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
BLOCKS = all_blocks(PAGES)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.id)
def test_docs_block_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # files a block writes land here
    if block.language == "json":
        run_json(block)
        return
    if block.included is not None:
        # A whole file shown on the site (docs/examples.md): a program with its own
        # command line and its own tests; here it must exist and compile.
        compile(block.included.read_text(encoding="utf-8"), str(block.included), "exec")
        return
    if block.language == "sh":
        with no_internet():
            done = [check_shell_line(line, tmp_path) for line in block.source.splitlines()]
        assert done
        return
    monkeypatch.delenv("DATASTORES_APIS", raising=False)
    namespace: dict[str, object] = {}
    with no_internet(), deadline(block.timeout, block.id):
        if block.venues:
            with FakeInThread(block.venues) as fake:
                monkeypatch.setattr(datastores, "Client", client_class_for(fake))
                namespace["fake"] = fake
                run_python(block, namespace)
        else:
            run_python(block, namespace)


def test_the_harness_finds_blocks_and_joins_continued_ones(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n\n```python\nx = 1\n```\n\n<!-- run: continue -->\n```python\nassert x == 1\n```\n"
        "\n```text\nnot code\n```\n\n<!-- run: fake=okx timeout=5 -->\n```python\npass\n```\n",
        encoding="utf-8",
    )
    blocks = page_blocks(page)
    assert [(b.line, b.language) for b in blocks] == [(3, "python"), (17, "python")]
    assert blocks[0].source == "x = 1\n\nassert x == 1\n"
    assert blocks[1].venues == ["okx"]
    assert blocks[1].timeout == 5.0
    run_python(blocks[0], {})


def test_a_block_cannot_reach_the_internet() -> None:
    import socket

    with no_internet(), pytest.raises(socket.gaierror, match="never reach the internet"):
        socket.getaddrinfo("api.binance.com", 443)
    socket.getaddrinfo("127.0.0.1", 80)  # the guard is lifted afterwards


def test_a_block_that_never_ends_fails() -> None:
    block = Block(ROOT / "README.md", 1, "python", "while True:\n    pass\n", {"timeout": "0.2"})
    with pytest.raises(TimeoutError, match="still running"), deadline(block.timeout, block.id):
        run_python(block, {})


def test_a_block_that_defines_main_must_run_it() -> None:
    source = "async def main() -> None:\n    pass\n"
    with pytest.raises(AssertionError, match="never runs it"):
        run_python(Block(ROOT / "README.md", 1, "python", source), {})
    run_python(
        Block(ROOT / "README.md", 1, "python", source + "\nimport asyncio\nasyncio.run(main())\n"),
        {},
    )
