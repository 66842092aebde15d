"""JSON encoding and decoding, using orjson when it is installed (extra ``fast``)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["HAS_ORJSON", "dumps", "dumps_bytes", "loads"]

_orjson: Any
try:  # pragma: no branch - depends on the environment
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised by a test that hides orjson
    _orjson = None

HAS_ORJSON = _orjson is not None


def _std_loads(data: str | bytes | bytearray | memoryview) -> Any:
    if isinstance(data, memoryview):
        data = data.tobytes()
    return json.loads(data)


def _plain(obj: Any) -> Any:
    # Book levels the native side keeps compactly (datastores._cbookside.Level, equal
    # to the [price, size] list they stand for) are encoded as that list.
    from ._bookside import is_level  # only on this failure path

    if is_level(obj):
        return list(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _std_dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=_plain)


if _orjson is not None:
    _orjson_loads = _orjson.loads
    _orjson_dumps = _orjson.dumps

    def loads(data: str | bytes | bytearray | memoryview) -> Any:
        """Decode one JSON document (orjson; stdlib ``json`` for what orjson refuses)."""
        try:
            return _orjson_loads(data)
        except _orjson.JSONDecodeError as exc:
            # Too deep a nesting stays refused: the stdlib's C decoder recurses and, under
            # a raised recursion limit, overflows the C stack (a crash, not an exception).
            if str(exc).startswith("depth limit"):
                raise
            # orjson rejects NaN/Infinity and integers beyond 64 bits, which stdlib accepts.
            return _std_loads(data)

    def dumps_bytes(obj: Any) -> bytes:
        """Encode compactly to UTF-8 bytes."""
        try:
            return bytes(_orjson_dumps(obj, default=_plain))
        except TypeError:
            return _std_dumps(obj).encode()

    def dumps(obj: Any) -> str:
        """Encode compactly (no spaces) to a string."""
        return dumps_bytes(obj).decode()

else:  # pragma: no cover - exercised by a test that hides orjson
    loads = _std_loads

    def dumps(obj: Any) -> str:
        """Encode compactly (no spaces) to a string."""
        return _std_dumps(obj)

    def dumps_bytes(obj: Any) -> bytes:
        """Encode compactly to UTF-8 bytes."""
        return _std_dumps(obj).encode()
