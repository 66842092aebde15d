"""GMO Coin REST pieces shared by the DataStore and ``datastores.helpers.gmocoin``.

GMO Coin answers errors with HTTP 200 and a body ``{"status": <non-zero>,
"messages": [{"message_code": "ERR-5201", "message_string": "..."}]}``
(https://api.coin.z.com/docs/en/#response-format ): :func:`check_status` turns
that into :class:`GMOCoinResponseError`.

The private WebSocket's access token (https://api.coin.z.com/docs/en/#ws-auth-post):
``POST /private/v1/ws-auth`` creates one (valid 60 minutes, at most 5 per key),
``PUT`` with ``{"token": ...}`` extends it to 60 minutes again, ``DELETE`` removes
it. The private stream is ``wss://api.coin.z.com/ws/private/v1/<token>``. Tokens
do not survive the weekly maintenance (reference: pybotters issue #278; not
stated by GMO Coin): after it a new one must be created.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yarl import URL

from ..._errors import ExchangeAPIError
from ..._http import read_response

__all__ = [
    "MAINTENANCE_CODES",
    "PRIVATE_WS_URL",
    "RATE_LIMIT_CODE",
    "WS_AUTH_URL",
    "GMOCoinResponseError",
    "check_status",
    "create_token",
    "delete_token",
    "extend_token",
    "is_token_refused",
    "token_of",
    "with_token",
]

#: REST endpoint of the access token (real host: the Client applies its redirects).
WS_AUTH_URL = "https://api.coin.z.com/private/v1/ws-auth"
#: the private stream, to which the token is appended as the last path segment
PRIVATE_WS_URL = "wss://api.coin.z.com/ws/private/v1/"
#: "ERR-5201" regular and "ERR-5202" emergency maintenance: wait, do not re-create
#: (https://api.coin.z.com/docs/en/#error-codes)
MAINTENANCE_CODES = frozenset({"ERR-5201", "ERR-5202"})
#: "Requests are too many": wait, do not re-create
RATE_LIMIT_CODE = "ERR-5003"


class GMOCoinResponseError(ExchangeAPIError):
    """GMO Coin answered with ``status`` other than 0.

    Also a ``ValueError`` (like every :class:`~datastores.ExchangeAPIError`), as the
    reference library's ``initialize()`` raised. ``code`` is the first
    ``message_code`` (``"ERR-5201"``), ``message`` its ``message_string``;
    ``status`` is the body's ``status``, ``http_status`` the HTTP one.
    """

    def __init__(
        self, *, endpoint: str, status: object, code: object, message: str, http_status: int = 200
    ) -> None:
        super().__init__(
            exchange="gmocoin",
            endpoint=endpoint,
            status=http_status,
            code=code,
            message=message,
        )
        #: the body's ``status`` field
        self.gmo_status = status
        #: the HTTP status (200: GMO Coin reports errors in the body)
        self.http_status = http_status


def check_status(data: Any, endpoint: str, http_status: int = 200) -> Any:
    """``data["data"]`` of a GMO Coin answer; :class:`GMOCoinResponseError` when
    ``status`` is not 0 (or the body is not a GMO Coin answer)."""
    if not isinstance(data, Mapping):
        raise GMOCoinResponseError(
            endpoint=endpoint,
            status=None,
            code=None,
            message=f"unexpected answer: {str(data)[:200]}",
            http_status=http_status,
        )
    status = data.get("status")
    if status != 0:
        code: object = None
        message = ""
        messages = data.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], Mapping):
            code = messages[0].get("message_code")
            message = str(messages[0].get("message_string") or "")
        raise GMOCoinResponseError(
            endpoint=endpoint,
            status=status,
            code=code,
            message=message or f"status {status!r}",
            http_status=http_status,
        )
    return data.get("data")


async def _request(client: Any, method: str, body: Mapping[str, Any] | None) -> Any:
    resp = await client.request(method, WS_AUTH_URL, data=body)
    data = await read_response(resp, exchange="gmocoin")
    return check_status(data, f"{method} /private/v1/ws-auth", resp.status)


async def create_token(client: Any) -> str:
    """``POST /private/v1/ws-auth``: a new access token (signed by ``client``)."""
    token = await _request(client, "POST", None)
    if not isinstance(token, str) or not token:
        raise GMOCoinResponseError(
            endpoint="POST /private/v1/ws-auth", status=0, code=None, message="no token in answer"
        )
    return token


async def extend_token(client: Any, token: str) -> None:
    """``PUT /private/v1/ws-auth``: ``token`` is valid 60 minutes from now."""
    await _request(client, "PUT", {"token": token})


async def delete_token(client: Any, token: str) -> None:
    """``DELETE /private/v1/ws-auth``: ``token`` is removed."""
    await _request(client, "DELETE", {"token": token})


def is_token_refused(error: BaseException) -> bool:
    """Whether a failed extension means the token is gone (create a new one).

    Any GMO Coin error answer but maintenance and rate limiting: GMO Coin does not
    document the code it gives for an expired or unknown token, so every other
    refusal is taken to mean it. Transport errors and HTTP errors are not: retry.
    """
    if not isinstance(error, GMOCoinResponseError):
        return False
    return error.code not in MAINTENANCE_CODES and error.code != RATE_LIMIT_CODE


def token_of(url: URL | str) -> str | None:
    """The token in a private-stream URL (its last path segment), or ``None``."""
    url = URL(url) if isinstance(url, str) else url
    parts = [part for part in url.path.split("/") if part]
    if len(parts) >= 4 and parts[-4:-1] == ["ws", "private", "v1"]:
        return parts[-1]
    return None


def with_token(url: URL | str | None, token: str) -> URL:
    """``url`` (a private-stream URL, or ``None`` for the real one) with ``token`` in it."""
    if url is None:
        return URL(PRIVATE_WS_URL + token)
    url = URL(url) if isinstance(url, str) else url
    if token_of(url) is None:
        return URL(PRIVATE_WS_URL + token)
    return url.with_path(url.path.rsplit("/", 1)[0] + "/" + token)
