"""``datastores._cbookside.loads_levels``: json.loads, with Levels, or the fallback.

Differential: for random documents (json.dumps of random values), random byte
mutations and truncations of real depth messages and hand-made hostile inputs,
the decoder either hands the document to its fallback or returns a value equal
to ``json.loads``'s, of the same types, with a ``Level`` exactly where an array
of two short ASCII strings is an element of an array. A subprocess runs it on
many inputs under ``PYTHONMALLOC=debug`` (buffer overruns and reference errors
abort there).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from _bookimpl import native
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(native is None, reason="the C extension was not built")


class _NotMine:
    def __repr__(self) -> str:
        return "NOT_MINE"


NOT_MINE: Any = _NotMine()


def _refuse(data: object) -> Any:
    return NOT_MINE


def decode(data: bytes | str) -> Any:
    assert native is not None
    return native.loads_levels(data, _refuse)


def _is_level_pair(value: Any) -> bool:
    return (
        type(value) is list
        and len(value) == 2
        and all(type(text) is str and text.isascii() and len(text) <= 255 for text in value)
    )


def assert_same(got: Any, want: Any, *, in_array: bool = False) -> None:
    """``got`` equals ``want`` with the same types; Levels exactly where specified."""
    assert native is not None
    if in_array and _is_level_pair(want):
        assert type(got) is native.Level, (got, want)
        assert list(got) == want
        assert got == want
        return
    assert type(got) is type(want), (got, want)
    if type(want) is dict:
        assert list(got) == list(want)  # the same keys in the same order
        for key in want:
            assert_same(got[key], want[key])
    elif type(want) is list:
        assert len(got) == len(want)
        for got_item, want_item in zip(got, want, strict=True):
            assert_same(got_item, want_item, in_array=True)
    elif type(want) is float and math.isnan(want):
        assert math.isnan(got)
    elif type(want) is float:
        assert got == want
        assert math.copysign(1.0, got) == math.copysign(1.0, want)
    else:
        assert got == want


def check(data: bytes | str) -> bool:
    """Decode ``data``; compare with json.loads unless refused. Whether it was accepted."""
    got = decode(data)
    if got is NOT_MINE:
        return False
    assert_same(got, json.loads(data))
    return True


SAMPLE = (
    b'{"e":"depthUpdate","E":1700000000123,"s":"BTCUSDT","U":157,"u":160,'
    b'"b":[["0.0024","10"],["0.0023","0.00000000"]],"a":[["0.0026","100"]]}'
)
FUTURES_SAMPLE = (
    b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":123456789,"T":123456788,'
    b'"s":"BTCUSDT","U":157,"u":160,"pu":149,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}}'
)
SNAPSHOT = b'{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[]}'


def test_a_depth_update_decodes_to_levels() -> None:
    assert native is not None
    message = decode(SAMPLE)
    assert message == json.loads(SAMPLE)
    assert [type(level) for level in message["b"] + message["a"]] == [native.Level] * 3
    assert message["b"][1][1] == "0.00000000"
    assert check(SAMPLE)
    assert check(FUTURES_SAMPLE)
    assert check(SNAPSHOT)
    assert check(SAMPLE.decode())


def test_short_strings_come_from_the_cache() -> None:
    first, second = decode(SAMPLE), decode(SAMPLE)
    assert [k1 is k2 for k1, k2 in zip(first, second, strict=True)] == [True] * 7
    assert first["s"] is second["s"]
    long_text = "x" * 40
    assert decode(json.dumps([long_text]))[0] == long_text


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ('[["1","2"]]', True),
        ('["1","2"]', True),  # top level: a plain list
        ('{"b":["1","2"]}', True),  # a dict value, not an array element: a list
        ('[["1","2","3"]]', True),
        ('[["1"]]', True),
        ('[["1",2]]', True),
        ('[[1,"2"]]', True),
        ('[[ "1" , "2" ] , [ ]]', True),
        ('[["' + "9" * 255 + '","1"]]', True),
        ('[["' + "9" * 256 + '","1"]]', True),  # too long for a Level: a list
        ('[[["1","2"]]]', True),
        ('[["1","2"]', False),
        ('[["1","2"],]', False),
        ('[["1\\u0032","2"]]', False),  # escapes: the fallback's
        ('[["\u00e9","2"]]', False),  # non-ASCII
        ('"\x01"', False),  # a raw control character
        ("NaN", False),
        ("[Infinity]", False),
        ("[-Infinity]", False),
        ("123456789012345678", True),
        ("-123456789012345678", True),
        ("1234567890123456789", False),  # more than 18 digits
        ("[1.5, -0.0, 1e400, -1e-400, 0.1, 1E+2, 2.5e-3]", True),
        ("[01]", False),
        ("[1.]", False),
        ("[.5]", False),
        ("[-]", False),
        ("[1e]", False),
        ("[+1]", False),
        ('{"a":1,"a":2,"b":3,"a":4}', True),  # duplicates: the last value, first position
        ('{"a" 1}', False),
        ('{"a":1,}', False),
        ("{1:2}", False),
        ("", False),
        ("   ", False),
        ("[1] [2]", False),
        ("[1] x", False),
        (" \t\r\n[true, false, null] \n", True),
        ("[tru]", False),
        ("[nul]", False),
        ("[fals]", False),
        ("pong", False),
        ("[" * 64 + "]" * 64, True),
        ("[" * 65 + "]" * 65, False),  # deeper than MAX_DEPTH
        ("[" * 100_000, False),
        ("{" * 100_000, False),
        ('["' + "a" * 100_000, False),
        ("[1" + ",1" * 1000 + "]", True),  # grows past the C stack buffer
        ("[[" + ",".join(['["1","2"]'] * 50) + "]]", True),
    ],
)
def test_hand_made_inputs(text: str, accepted: bool) -> None:
    assert check(text) is accepted
    assert check(text.encode()) is accepted


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 31, 32, 33, 1000, 5000])
def test_arrays_and_objects_longer_than_the_stack_buffers(n: int) -> None:
    """Items beyond the parser's stack buffers (16 array items, 16 key/value pairs)
    move to a growing heap buffer: every item arrives, in order."""
    doc = {
        "a": [[f"{i}.5", "1"] for i in range(n)],
        "l": list(range(n)),
        **{f"k{i}": [i, str(i)] for i in range(n)},
    }
    assert check(json.dumps(doc))


def test_the_fallback_answers_and_raises_for_what_is_not_mine() -> None:
    assert native is not None
    assert native.loads_levels(b"[1e999999999999999999999]", json.loads) == [math.inf]
    with pytest.raises(json.JSONDecodeError):
        native.loads_levels(b"[1,", json.loads)
    assert native.loads_levels(bytearray(b"[1]"), lambda data: ("fallback", bytes(data))) == (
        "fallback",
        b"[1]",
    )
    with pytest.raises(TypeError):
        native.loads_levels(b"[1]")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["0.0024", "10", "BTCUSDT", "depthUpdate", "", "a\\b", 'q"t'])
    | st.text(alphabet="0123456789.", max_size=300),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=4), children, max_size=5)
        | st.tuples(st.text(max_size=6), st.text(max_size=6)).map(list)
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES, st.sampled_from([None, 1, 2]), st.booleans())
def test_random_documents(value: Any, indent: int | None, as_bytes: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    check(text.encode() if as_bytes else text)
    check(json.dumps(value).encode())


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from([SAMPLE, FUTURES_SAMPLE, SNAPSHOT]),
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 255)), max_size=4),
    st.integers(0, 300),
)
def test_mutated_and_truncated_messages(
    base: bytes, edits: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(base)
    for position, byte in edits:
        data[position % len(data)] = byte
    check(bytes(data))
    check(bytes(data[: cut % (len(data) + 1)]))
    try:
        text = bytes(data).decode()
    except UnicodeDecodeError:
        return
    check(text)


def test_no_memory_errors_under_the_debug_allocator() -> None:
    """Many inputs under PYTHONMALLOC=debug: an overrun or a bad reference aborts."""
    script = textwrap.dedent(
        f"""
        import json, random
        from datastores._cbookside import loads_levels
        bases = [{SAMPLE!r}, {FUTURES_SAMPLE!r}, {SNAPSHOT!r}]
        rng = random.Random(7)
        accepted = 0
        for _ in range(20000):
            data = bytearray(rng.choice(bases))
            for _ in range(rng.randint(0, 3)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if rng.random() < 0.3:
                data = data[: rng.randint(0, len(data))]
            data = bytes(data)
            got = loads_levels(data, lambda d: None)
            if got is not None:
                accepted += 1
                assert got == json.loads(data)
        print(accepted)
        """
    )
    env = dict(os.environ, PYTHONMALLOC="debug")
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout) > 100  # the accepted path ran too, not only refusals
