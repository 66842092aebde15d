"""Loading credentials: sources, precedence, validation messages without secrets."""

from __future__ import annotations

import asyncio
import json
import traceback
from pathlib import Path

import pytest

from datastores._client import Client
from datastores._credentials import ENV_VAR, INCUMBENT_ENV_VAR, Credentials, load_apis
from datastores._errors import ConfigurationError

SECRET = "s3cr3t-value-never-shown"
PASSPHRASE = "pass-never-shown"


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_dict_source() -> None:
    apis = load_apis(
        {"bybit": ["KEY", SECRET], "okx": ["K", SECRET, PASSPHRASE], "hyperliquid": ["0xabc"]}
    )
    assert apis["bybit"] == Credentials("bybit", "KEY", SECRET)
    assert apis["okx"].passphrase == PASSPHRASE
    assert apis["hyperliquid"].secret == "0xabc"
    assert apis["hyperliquid"].key == ""


def test_file_path_source(tmp_path: Path) -> None:
    path = write(tmp_path / "keys.json", {"binance": ["KEY", SECRET]})
    assert load_apis(path)["binance"].key == "KEY"
    assert load_apis(str(path))["binance"].secret == SECRET


def test_env_var_then_cwd_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = write(tmp_path / "env.json", {"bitflyer": ["ENVKEY", SECRET]})
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    write(cwd / "apis.json", {"bitflyer": ["CWDKEY", SECRET]})
    monkeypatch.delenv(INCUMBENT_ENV_VAR, raising=False)  # a developer's own setting
    monkeypatch.setenv(ENV_VAR, str(env_file))
    assert load_apis(cwd=cwd)["bitflyer"].key == "ENVKEY"
    monkeypatch.delenv(ENV_VAR)
    assert load_apis(cwd=cwd)["bitflyer"].key == "CWDKEY"
    assert load_apis(cwd=tmp_path) == {}


def test_client_reads_apis_json_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "apis.json", {"kucoin": ["K", SECRET, PASSPHRASE]})
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv(INCUMBENT_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)

    async def make() -> list[str]:
        async with Client() as client:
            return list(client.credentials)

    assert asyncio.run(make()) == ["kucoin"]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"okx": ["K", SECRET]}, "'okx' must be [key, secret, passphrase]"),
        ({"okx_demo": ["K", SECRET]}, "'okx_demo' must be [key, secret, passphrase]"),
        ({"bitget_demo": ["K", SECRET]}, "'bitget_demo' must be [key, secret, passphrase]"),
        ({"hyperliquid": ["0xabc", SECRET]}, "'hyperliquid' must be [private_key]"),
        ({"bybit": [SECRET]}, "'bybit' must be [key, secret]"),
        ({"bybit": {"key": SECRET}}, "'bybit' must be a list"),
        ({"bybit": ["K", 123]}, "'bybit' must contain only strings"),
        ({"bybit": ["", SECRET]}, "'bybit' has an empty key or secret"),
        ({"": ["K", SECRET]}, "non-empty strings"),
    ],
)
def test_bad_entries_name_the_entry_not_the_secret(
    entries: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_apis(entries)
    assert message in str(info.value)
    assert SECRET not in str(info.value)


def test_malformed_file_gives_position_not_content(tmp_path: Path) -> None:
    path = tmp_path / "apis.json"
    path.write_text('{"bybit": ["KEY", "' + SECRET + '"', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid JSON") as info:
        load_apis(path)
    assert "line 1" in str(info.value)
    assert SECRET not in str(info.value)


def test_malformed_file_chains_nothing_that_holds_the_document(tmp_path: Path) -> None:
    # json.JSONDecodeError keeps the whole document in .doc: neither as __cause__ nor as
    # the implicit __context__ (which `raise ... from None` only hides from tracebacks).
    path = tmp_path / "apis.json"
    path.write_text(
        '{"okx": ["KEY-VALUE-X", "' + SECRET + '", "' + PASSPHRASE + '"],\n "bad": }',
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError) as info:
        load_apis(path)
    error = info.value
    assert str(error) == (
        f"credentials file {str(path)!r} (the apis argument) is not valid JSON (line 2, column 9)"
    )
    assert error.__cause__ is None
    assert error.__context__ is None
    shown = "".join(traceback.format_exception(error)) + repr(error) + repr(error.args)
    for value in (SECRET, PASSPHRASE, "KEY-VALUE-X"):
        assert value not in shown


def test_missing_and_wrong_shape_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_apis(tmp_path / "nope.json")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "gone.json"))
    with pytest.raises(ConfigurationError, match=r"\$DATASTORES_APIS"):
        load_apis()
    with pytest.raises(ConfigurationError, match="JSON object"):
        load_apis(write(tmp_path / "list.json", [["KEY", SECRET]]))
    with pytest.raises(ConfigurationError, match="apis must be"):
        load_apis(42)  # type: ignore[arg-type]


async def test_client_raises_before_opening_a_session() -> None:
    with pytest.raises(ConfigurationError, match="'okx'"):
        Client({"okx": ["K", SECRET]})


def test_credentials_repr_hides_secrets() -> None:
    creds = Credentials("okx", "ABCDEFGH", SECRET, PASSPHRASE)
    for text in (repr(creds), str(creds)):
        assert SECRET not in text
        assert PASSPHRASE not in text
        assert "ABCDEFGH" not in text
        assert "ABCD" in text
