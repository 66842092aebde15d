"""msgpack encoding of JSON-like values, for Hyperliquid's L1 action hash.

Only the subset of msgpack that JSON values need (None, bool, int, float, str,
bytes, maps, arrays), encoded exactly as msgpack-python's ``packb()`` defaults do,
so no msgpack dependency is needed.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from .._errors import ConfigurationError

__all__ = ["msgpack_packb"]


def _pack(obj: Any, out: bytearray) -> None:
    # Encoding choices match msgpack-python's packb() defaults (use_bin_type=True):
    # smallest int form, unsigned types for non-negative ints, float64 for floats.
    if obj is None:
        out.append(0xC0)
    elif obj is True:
        out.append(0xC3)
    elif obj is False:
        out.append(0xC2)
    elif isinstance(obj, int):
        _pack_int(obj, out)
    elif isinstance(obj, float):
        out.append(0xCB)
        out += struct.pack(">d", obj)
    elif isinstance(obj, str):
        data = obj.encode()
        size = len(data)
        if size < 32:
            out.append(0xA0 | size)
        elif size < 0x100:
            out += bytes((0xD9, size))
        elif size < 0x10000:
            out.append(0xDA)
            out += struct.pack(">H", size)
        else:
            out.append(0xDB)
            out += struct.pack(">I", size)
        out += data
    elif isinstance(obj, (bytes, bytearray)):
        size = len(obj)
        if size < 0x100:
            out += bytes((0xC4, size))
        elif size < 0x10000:
            out.append(0xC5)
            out += struct.pack(">H", size)
        else:
            out.append(0xC6)
            out += struct.pack(">I", size)
        out += obj
    elif isinstance(obj, Mapping):
        _pack_length(len(obj), 0x80, 0xDE, 0xDF, out)
        for key, value in obj.items():
            _pack(key, out)
            _pack(value, out)
    elif isinstance(obj, (list, tuple)):
        _pack_length(len(obj), 0x90, 0xDC, 0xDD, out)
        for item in obj:
            _pack(item, out)
    else:
        raise ConfigurationError(
            f"Hyperliquid actions may only hold JSON values; got a {type(obj).__name__}"
        )


def _pack_length(size: int, fix: int, code16: int, code32: int, out: bytearray) -> None:
    if size < 16:
        out.append(fix | size)
    elif size < 0x10000:
        out.append(code16)
        out += struct.pack(">H", size)
    else:
        out.append(code32)
        out += struct.pack(">I", size)


def _pack_int(value: int, out: bytearray) -> None:
    if 0 <= value < 0x80:
        out.append(value)
    elif -32 <= value < 0:
        out.append(value & 0xFF)
    elif 0 <= value < 0x100:
        out += bytes((0xCC, value))
    elif 0 <= value < 0x10000:
        out.append(0xCD)
        out += struct.pack(">H", value)
    elif 0 <= value < 0x100000000:
        out.append(0xCE)
        out += struct.pack(">I", value)
    elif 0 <= value < 0x10000000000000000:
        out.append(0xCF)
        out += struct.pack(">Q", value)
    elif -0x80 <= value < 0:
        out.append(0xD0)
        out += struct.pack(">b", value)
    elif -0x8000 <= value < 0:
        out.append(0xD1)
        out += struct.pack(">h", value)
    elif -0x80000000 <= value < 0:
        out.append(0xD2)
        out += struct.pack(">i", value)
    elif -0x8000000000000000 <= value < 0:
        out.append(0xD3)
        out += struct.pack(">q", value)
    else:
        raise ConfigurationError(f"integer {value} does not fit in 64 bits (msgpack)")


def msgpack_packb(obj: Any) -> bytes:
    """Encode ``obj`` (None, bool, int, float, str, bytes, dict, list) as msgpack."""
    out = bytearray()
    _pack(obj, out)
    return bytes(out)
