"""The capability matrix of ``docs/capabilities.md``, generated from the code.

Everything in the page is read from where the code itself declares it, so the
page cannot drift from the code (``tests/test_capabilities.py`` fails when the
committed page differs from :func:`render`):

* the exchanges: the packages of :mod:`datastores.exchanges`, and the host
  registry (which exchange signs which HTTP host, which speaks which WebSocket
  host);
* the collections: the ``DataStoreCollection`` classes :mod:`datastores`
  exports, their channel tables (``_CHANNELS``) and declared stores;
* the order books: each collection's ``OrderBookStore`` fields, with how the
  book is verified (the ``_VERIFICATION`` each book class declares, checked
  against its sequence rule and ``verifiable`` flag by the tests);
* the fake exchanges: the venues of ``datastores/testing/profiles/<x>/``;
* the command line: the targets of ``datastores/exchanges/<x>/cli.py``.

Regenerate the page with ``python -m datastores.apps.capabilities docs/capabilities.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "VERIFICATION_KINDS",
    "BookRow",
    "ExchangeRow",
    "book_rows",
    "collection_classes",
    "exchange_rows",
    "render",
]

#: what a book can prove, in the order the page lists them
VERIFICATION_KINDS: dict[str, str] = {
    "sequence": "every update carries ids that show a lost one (a gap starts a resync)",
    "checksum": "every update carries a checksum of the resulting book",
    "periodic snapshot": "the exchange sends the whole book now and then; it is compared",
    "whole frames": "each message is the whole (top-N) book: nothing can be lost",
    "none": (
        "no sequence, no checksum: a lost message cannot be seen (`status().verifiable` is false)"
    ),
}


def class_path(cls: type) -> str:
    """``module:Class`` of ``cls``."""
    return f"{cls.__module__}:{cls.__qualname__}"


def exchange_of(cls: type) -> str:
    """The exchange package a collection class lives in (``datastores.exchanges.<x>``)."""
    return cls.__module__.split(".")[2]


def collection_classes() -> list[type]:
    """Every ``DataStoreCollection`` class :mod:`datastores` exports, by exchange and name."""
    import datastores
    from datastores import DataStoreCollection

    found = [getattr(datastores, name) for name in datastores.__all__]
    classes = [
        c
        for c in found
        if isinstance(c, type)
        and issubclass(c, DataStoreCollection)
        and c is not DataStoreCollection
    ]
    return sorted(classes, key=lambda c: (exchange_of(c), c.__name__.lower()))


def _channels(collection: type) -> list[str]:
    table: dict[str, str] = {}
    for klass in reversed(collection.__mro__):
        table.update(vars(klass).get("_CHANNELS", {}))
    return sorted(table, key=str.lower)


def _stores(collection: type) -> Iterator[tuple[str, type]]:
    """(store name, store class) of each declared store."""
    from .._storefield import declared_stores

    for field in declared_stores(collection):
        yield field.name or field.attribute, field.store_class


@dataclass(frozen=True, slots=True)
class BookRow:
    """One order-book store of one collection."""

    exchange: str
    collection: str
    store: str
    book_class: str
    verification: tuple[str, ...]
    how: str


def book_rows() -> list[BookRow]:
    """Every order-book store of every collection, with how it is verified.

    Raises:
        KeyError: a book store class that does not declare its own ``_VERIFICATION``.
    """
    from .._orderbook import OrderBookStore

    rows = []
    for collection in collection_classes():
        for name, store_class in _stores(collection):
            if not issubclass(store_class, OrderBookStore):
                continue
            path = class_path(store_class)
            declared = vars(store_class).get("_VERIFICATION")  # its own, not inherited
            if declared is None:
                raise KeyError(f"{path} (a book of {collection.__name__}) is not classified")
            kinds, how = declared
            rows.append(
                BookRow(exchange_of(collection), collection.__name__, name, path, kinds, how)
            )
    return rows


@dataclass(frozen=True, slots=True)
class ExchangeRow:
    """What the library offers for one exchange."""

    exchange: str
    collections: tuple[str, ...]
    http_signing: bool
    ws_protocol: bool
    fake_venues: tuple[str, ...]
    cli_symbol: str | None
    cli_book: str | None
    demo: bool


def exchange_rows() -> list[ExchangeRow]:
    """One row per exchange package."""
    from .._cli._targets import DEFAULT_SYMBOLS, TARGETS
    from .._registry import http_auth_by_host, ws_protocol_by_host
    from ..exchanges import EXCHANGES
    from ..testing.profiles import EXCHANGES as FAKE_EXCHANGES
    from ..testing.profiles import resolve_profiles

    signing = {auth.exchange for auth in http_auth_by_host().values()}
    protocols = {protocol.exchange for protocol in ws_protocol_by_host().values()}
    by_exchange: dict[str, list[str]] = {}
    for collection in collection_classes():
        by_exchange.setdefault(exchange_of(collection), []).append(collection.__name__)
    rows = []
    for exchange in EXCHANGES:
        venues: tuple[str, ...] = ()
        if exchange in FAKE_EXCHANGES:
            venues = tuple(profile.name for profile in resolve_profiles(exchange))
        symbol = book = None
        demo = False
        if exchange in TARGETS:
            target = TARGETS[exchange](DEFAULT_SYMBOLS[exchange])
            symbol = target.symbol
            book = f"{target.store_class.rpartition(':')[2]}.{target.book_name}"
            demo = target.fake_venue is not None
        rows.append(
            ExchangeRow(
                exchange=exchange,
                collections=tuple(by_exchange.get(exchange, ())),
                http_signing=exchange in signing,
                ws_protocol=exchange in protocols,
                fake_venues=venues,
                cli_symbol=symbol,
                cli_book=book,
                demo=demo,
            )
        )
    return rows


def _code(names: tuple[str, ...] | list[str], empty: str = "-") -> str:
    return ", ".join(f"`{name}`" for name in names) or empty


def _exchange_link(exchange: str, docs: Path) -> str:
    if (docs / "exchanges" / f"{exchange}.md").is_file():
        return f"[{exchange}](exchanges/{exchange}.md)"
    return exchange


def render(docs: Path | None = None) -> str:
    """The Markdown of ``docs/capabilities.md`` (``docs``: the folder, for page links)."""
    docs = docs or Path(__file__).resolve().parents[2] / "docs"
    out = [
        "# Capability matrix",
        "",
        "<!-- Generated by `python -m datastores.apps.capabilities docs/capabilities.md`;"
        " do not edit by hand. -->",
        "",
        "What the library offers for each exchange, read from the code itself (the exchange",
        "packages, the host registry, the collections' channel tables and stores, the fake",
        "exchanges' profiles and the command-line targets). A test fails when this page differs",
        "from what the code declares.",
        "",
        "## Exchanges",
        "",
        "| exchange | collections | signing | fake venues | `watch`/`record` default | `demo` |",
        "|---|---|---|---|---|---|",
    ]
    for row in exchange_rows():
        signing = " + ".join(
            name for name, has in (("HTTP", row.http_signing), ("WS", row.ws_protocol)) if has
        )
        cli = "-"
        if row.cli_symbol and row.cli_book:
            # Name the collection only where the exchange has several.
            shown = row.cli_book
            if len(row.collections) == 1:
                shown = row.cli_book.partition(".")[2]
            cli = f"`{row.cli_symbol}`, `{shown}`"
        out.append(
            f"| {_exchange_link(row.exchange, docs)}"
            f" | {_code(row.collections, 'authentication only')}"
            f" | {signing or '-'} | {_code(row.fake_venues)} | {cli}"
            f" | {'yes' if row.demo else '-'} |"
        )
    out += [
        "",
        "*signing*: the `Client` signs HTTP requests to the exchange's hosts, and `ws_connect`",
        'logs in and keeps the exchange\'s heartbeat. *fake venues*: `FakeExchange("<venue>")`',
        "serves it offline ([testing](testing.md)). `datastores watch <exchange> [symbol]` and",
        "`record` show the book named (default symbol), `datastores demo --exchange <exchange>`",
        "shows it on the fake ([demo](demo.md)).",
        "",
        "## Order books: how each is verified",
        "",
    ]
    out += [f"- **{kind}**: {meaning}." for kind, meaning in VERIFICATION_KINDS.items()]
    out += [
        "",
        "| exchange | collection | store | verification | how |",
        "|---|---|---|---|---|",
    ]
    for book in book_rows():
        out.append(
            f"| {book.exchange} | `{book.collection}` | `{book.store}`"
            f" | {' + '.join(book.verification)} | {book.how} |"
        )
    out += [
        "",
        "A gap or a checksum mismatch is never silent: the book is marked unsynced, counted in",
        "`status(symbol)` and recovered ([order books](orderbook.md)).",
        "",
        "## Channels and stores",
        "",
        "The channels each collection routes (its channel table; anything else is counted in",
        "`statistics().unhandled`) and the stores it declares (`store.<name>`).",
        "",
        "| collection | channels | stores |",
        "|---|---|---|",
    ]
    for collection in collection_classes():
        stores = [name for name, _ in _stores(collection)]
        out.append(
            f"| `{collection.__name__}` | {_code(_channels(collection))} | {_code(stores)} |"
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the page to the path given, or print it."""
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
