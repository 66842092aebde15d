"""The live terminal view of ``datastores demo`` / ``watch`` / ``record``.

One data model (:class:`ViewState`) and three renderers:

* :class:`RichRenderer` when ``rich`` is installed (extra ``view``) and stdout
  is a terminal;
* :class:`AnsiRenderer`, plain ANSI redraws, when ``rich`` is missing;
* :class:`LineRenderer`, periodic plain lines, when stdout is not a terminal
  (pipes, CI, tests). Events are printed as they happen.
"""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TextIO

__all__ = [
    "AnsiRenderer",
    "LineRenderer",
    "Renderer",
    "RichRenderer",
    "ViewState",
    "export_svg",
    "format_number",
    "make_renderer",
    "price_decimals",
    "require_rich",
    "rich_view",
]

Level = tuple[str, str]


@dataclass(slots=True)
class ViewState:
    """Everything one frame shows.

    Attributes:
        title: first line (exchange, symbol, mode).
        elapsed: seconds since the start; ``duration`` the planned run (or ``None``).
        bids, asks: best-first ``(price, size)`` strings, as the exchange sent them.
        messages: messages received; ``rate``: messages per second (recent).
        synced: book integrity; ``last_update_id``, ``gaps``, ``resyncs``,
            ``checksum_failures``, ``last_error`` from ``status()``.
        reconnects: WebSocket reconnections seen.
        events: ``(elapsed seconds, text)``, oldest first.
    """

    title: str
    symbol: str
    elapsed: float = 0.0
    duration: float | None = None
    bids: Sequence[Level] = ()
    asks: Sequence[Level] = ()
    messages: int = 0
    rate: float = 0.0
    synced: bool = False
    last_update_id: int | None = None
    gaps: int = 0
    resyncs: int = 0
    checksum_failures: int = 0
    reconnects: int = 0
    last_error: str | None = None
    events: list[tuple[float, str]] = field(default_factory=list)

    @property
    def spread(self) -> str:
        """Best ask minus best bid, or ``"-"``."""
        if not self.bids or not self.asks:
            return "-"
        try:
            return format_number(str(Decimal(self.asks[0][0]) - Decimal(self.bids[0][0])))
        except InvalidOperation:
            return "-"


def format_number(text: str, decimals: int | None = None) -> str:
    """``"65000.01000000"`` -> ``"65000.01"``: trailing zeros dropped (at least
    ``decimals`` kept when given). Not a number: returned unchanged."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if decimals is not None:
        return f"{value:.{decimals}f}"
    return format(value.normalize(), "f")


def price_decimals(levels: Sequence[Level]) -> int:
    """Decimals needed to show every price of ``levels`` without trailing zeros."""
    decimals = 0
    for price, _ in levels:
        text = format_number(price)
        if "." in text:
            decimals = max(decimals, len(text) - text.index(".") - 1)
    return decimals


def _status_line(state: ViewState) -> str:
    parts = [
        "SYNCED" if state.synced else "UNSYNCED",
        f"gaps {state.gaps}",
        f"resyncs {state.resyncs}",
        f"reconnects {state.reconnects}",
    ]
    if state.checksum_failures:
        parts.append(f"checksum failures {state.checksum_failures}")
    if state.last_update_id is not None:
        parts.append(f"update id {state.last_update_id}")
    return " | ".join(parts)


def _clock_text(state: ViewState) -> str:
    if state.duration is None:
        return f"{state.elapsed:5.1f}s"
    return f"{state.elapsed:5.1f}s / {state.duration:.0f}s"


class Renderer(Protocol):
    """Draws frames and events; :meth:`close` restores the terminal."""

    #: seconds between frames the caller should aim for
    interval: float

    def frame(self, state: ViewState) -> None: ...

    def event(self, elapsed: float, text: str) -> None: ...

    def close(self) -> None: ...


class LineRenderer:
    """Plain lines for pipes and CI: one status line per ``interval``, events at once."""

    def __init__(self, stream: TextIO | None = None, interval: float = 1.0) -> None:
        self.stream = stream or sys.stdout
        self.interval = interval

    def frame(self, state: ViewState) -> None:
        bid = format_number(state.bids[0][0]) if state.bids else "-"
        ask = format_number(state.asks[0][0]) if state.asks else "-"
        self.stream.write(
            f"[{state.elapsed:6.1f}s] {state.symbol} "
            f"{'synced' if state.synced else 'UNSYNCED'} bid {bid} ask {ask} "
            f"spread {state.spread} msgs/s {state.rate:.0f} messages {state.messages} "
            f"gaps {state.gaps} resyncs {state.resyncs} reconnects {state.reconnects}\n"
        )
        self.stream.flush()

    def event(self, elapsed: float, text: str) -> None:
        self.stream.write(f"[{elapsed:6.1f}s] event: {text}\n")
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()


def _ladder(state: ViewState, depth: int) -> list[str]:
    """Asks (worst at the top) above bids, price and size columns."""
    asks = list(state.asks[:depth])[::-1]
    bids = list(state.bids[:depth])
    places = price_decimals([*asks, *bids])
    lines = [f"{'':4}{'price':>16}  {'size':>14}"]
    for i, (price, size) in enumerate(asks):
        lines.append(
            f"ask{len(asks) - i:>2}{format_number(price, places):>15}  {format_number(size, 5):>14}"
        )
    lines.append(f"{'':4}{'spread ' + state.spread:>16}")
    for i, (price, size) in enumerate(bids):
        lines.append(
            f"bid{i + 1:>2}{format_number(price, places):>15}  {format_number(size, 5):>14}"
        )
    return lines


class AnsiRenderer:
    """A full-screen view with plain ANSI escapes (no dependencies)."""

    _HIDE, _SHOW, _HOME_CLEAR = "\x1b[?25l", "\x1b[?25h", "\x1b[H\x1b[2J"

    def __init__(self, stream: TextIO | None = None, interval: float = 0.25, depth: int = 10):
        self.stream = stream or sys.stdout
        self.interval = interval
        self.depth = depth
        self._events: list[tuple[float, str]] = []
        self.stream.write(self._HIDE)

    def frame(self, state: ViewState) -> None:
        green, red, dim, bold, reset = "\x1b[32m", "\x1b[31m", "\x1b[2m", "\x1b[1m", "\x1b[0m"
        width = shutil.get_terminal_size((100, 40)).columns
        lines = [f"{bold}{state.title}{reset}  {dim}{_clock_text(state)}{reset}", ""]
        for line in _ladder(state, self.depth):
            color = red if line.startswith("ask") else green if line.startswith("bid") else ""
            lines.append(f"{color}{line}{reset}" if color else line)
        status = _status_line(state)
        lines += [
            "",
            f"{green if state.synced else red}{bold}{status}{reset}",
            f"messages {state.messages}   msgs/s {state.rate:.0f}",
            f"last error: {state.last_error or '-'}",
            "",
            f"{bold}events{reset}",
        ]
        lines = [line[: width + 20] for line in lines]
        lines += [
            f"{dim}{t:6.1f}s{reset} {text[: max(20, width - 9)]}" for t, text in state.events[-10:]
        ]
        body = "\n".join(lines)
        self.stream.write(self._HOME_CLEAR + body + "\n")
        self.stream.flush()

    def event(self, elapsed: float, text: str) -> None:
        """Events are part of the next frame."""

    def close(self) -> None:
        self.stream.write(self._SHOW)
        self.stream.flush()


def rich_view(state: ViewState, depth: int = 10) -> Any:
    """The rich renderable of one frame (needs rich)."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    book = Table(title=f"{state.symbol} top {depth}", expand=False, show_edge=False)
    book.add_column("", justify="left")
    book.add_column("price", justify="right")
    book.add_column("size", justify="right")
    asks = list(state.asks[:depth])[::-1]
    places = price_decimals([*asks, *state.bids[:depth]])
    for i, (price, size) in enumerate(asks):
        book.add_row(
            Text(f"ask {len(asks) - i}", style="red"),
            Text(format_number(price, places), style="red"),
            format_number(size, 5),
        )
    book.add_row("", Text(f"spread {state.spread}", style="bold"), "")
    for i, (price, size) in enumerate(state.bids[:depth]):
        book.add_row(
            Text(f"bid {i + 1}", style="green"),
            Text(format_number(price, places), style="green"),
            format_number(size, 5),
        )
    status = Text(_status_line(state), style="bold green" if state.synced else "bold red")
    info = Text(
        f"messages {state.messages}   msgs/s {state.rate:.0f}\n"
        f"last error: {state.last_error or '-'}"
    )
    events = Text("\n".join(f"{t:6.1f}s {text}" for t, text in state.events[-10:]))
    return Group(
        Text(f"{state.title}   {_clock_text(state)}", style="bold"),
        book,
        Panel(Group(status, info), title="integrity"),
        Panel(events, title="events"),
    )


class RichRenderer:
    """The same view drawn with ``rich`` (``pip install 'datastores[view]'``)."""

    def __init__(self, stream: TextIO | None = None, interval: float = 0.25, depth: int = 10):
        from rich.console import Console
        from rich.live import Live

        self.interval = interval
        self.depth = depth
        self._console = Console(file=stream or sys.stdout)
        self._live = Live(console=self._console, refresh_per_second=8, transient=False)
        self._live.start()

    def _render(self, state: ViewState) -> Any:
        return rich_view(state, self.depth)

    def frame(self, state: ViewState) -> None:
        self._live.update(self._render(state), refresh=True)

    def event(self, elapsed: float, text: str) -> None:
        """Events are part of the next frame."""

    def close(self) -> None:
        self._live.stop()


def require_rich(what: str) -> None:
    """Fail early when rich is missing.

    Raises:
        MissingDependencyError: with the install command.
    """
    try:
        import rich  # noqa: F401
    except ImportError:
        from ._errors import MissingDependencyError

        raise MissingDependencyError(f"{what} needs rich: pip install 'datastores[view]'") from None


def export_svg(state: ViewState, path: str, title: str = "datastores", width: int = 110) -> None:
    """Write one frame, drawn as the rich view, to ``path`` as an SVG image.

    Raises:
        MissingDependencyError: rich is not installed.
    """
    require_rich("--svg")
    from rich.console import Console

    console = Console(record=True, width=width, file=io.StringIO(), force_terminal=True)
    console.print(rich_view(state))
    console.save_svg(path, title=title)


def make_renderer(mode: str = "auto", stream: TextIO | None = None) -> Renderer:
    """Pick a renderer: ``auto`` (rich on a terminal if installed, else ANSI;
    lines when not a terminal), or ``rich``, ``ansi``, ``plain`` explicitly.

    Raises:
        MissingDependencyError: ``rich`` asked for but not installed.
    """
    out = stream or sys.stdout
    if mode == "auto":
        isatty = getattr(out, "isatty", None)
        if not (callable(isatty) and isatty()):
            return LineRenderer(out)
        try:
            import rich
        except ImportError:
            return AnsiRenderer(out)
        return RichRenderer(out)
    if mode == "plain":
        return LineRenderer(out)
    if mode == "ansi":
        return AnsiRenderer(out)
    if mode == "rich":
        try:
            import rich  # noqa: F401
        except ImportError:
            from ._errors import MissingDependencyError

            raise MissingDependencyError(
                "the rich view needs rich: pip install 'datastores[view]'"
            ) from None
        return RichRenderer(out)
    raise ValueError(f"unknown view mode {mode!r}; use auto, rich, ansi or plain")
