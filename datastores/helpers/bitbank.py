"""bitbank's private stream, which is PubNub (HTTP long-polls), not a WebSocket.

https://github.com/bitbankinc/bitbank-api-docs/blob/master/private-stream.md : a signed
``GET /v1/user/subscribe`` gives the account's PubNub channel and an access token;
PubNub's subscribe v2 (``GET /v2/subscribe/<subscribe key>/<channel>/0`` with
``uuid``, ``tt``, ``tr`` and ``auth``, https://www.pubnub.com/docs/sdks/rest-api/subscribe-v-2)
then returns the messages after a timetoken, holding the request until one comes.
Each message's ``d`` is the private-stream payload ``{"method", "params"}`` that
:class:`~datastores.bitbankPrivateDataStore` takes. When PubNub answers
``"Token is expired."`` a new token is fetched and polling goes on from the same
timetoken. bitbank does not document the token's lifetime.

Two ways to run it:

* :class:`PrivateStream` (this library's): runs the loop as a background task of the
  Client (``Client.close()`` ends it), renews the token every ``renew_interval``
  seconds before it can expire (:class:`~datastores._background.TokenKeepalive`),
  retries failures with backoff, seeds the store by ``initialize()`` once subscribed,
  and feeds it::

      store = datastores.bitbankPrivateDataStore()
      stream = PrivateStream(client, store)
      stream.start()

* the functions of the reference library, same names and arguments:
  :func:`fetch_channel_and_token`, :func:`fetch_subscribe`, :func:`subscribe` (an
  async generator of long-poll answers) and :func:`subscribe_with_callback`
  (``await subscribe_with_callback(client, store.onmessage)``).

The token travels in the query (``auth``): it never reaches a log, a repr or an
error message of this module.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, Final, TypedDict, cast

from .._background import Background, Backoff, TokenKeepalive, retryable_errors

if TYPE_CHECKING:
    from .._client import Client

__all__ = [
    "DEFAULT_BITBANK_SERVER",
    "DEFAULT_PUBNUB_SERVER",
    "DEFAULT_SUBSCRIBE_KEY",
    "TOKEN_EXPIRED",
    "BaseResponse",
    "ChannelAndToken",
    "PrivateStream",
    "SubscribeMessage",
    "SubscribeResponse",
    "TimeToken",
    "fetch_channel_and_token",
    "fetch_subscribe",
    "is_token_expired",
    "subscribe",
    "subscribe_with_callback",
]

logger = logging.getLogger("datastores.helpers.bitbank")

#: bitbank's private REST server
DEFAULT_BITBANK_SERVER: Final[str] = "https://api.bitbank.cc"
#: PubNub's server
DEFAULT_PUBNUB_SERVER: Final[str] = "https://ps.pndsn.com"
#: bitbank's public PubNub subscribe key (private-stream.md)
DEFAULT_SUBSCRIBE_KEY: Final[str] = "sub-c-ecebae8e-dd60-11e6-b6b1-02ee2ddab7fe"
#: PubNub's message when the access token has expired
TOKEN_EXPIRED: Final[str] = "Token is expired."
#: seconds a long-poll may take: PubNub holds it about 280 s when nothing comes
_POLL_TIMEOUT = 320.0


class ChannelAndToken(TypedDict):
    """``data`` of ``GET /v1/user/subscribe``."""

    pubnub_channel: str
    pubnub_token: str


class BaseResponse(TypedDict):
    """bitbank's answer: ``success`` 1 and its ``data``."""

    success: int
    data: ChannelAndToken


class TimeToken(TypedDict):
    """A PubNub timetoken (``t``, a 17-digit string) and region (``r``)."""

    t: str
    r: int


class SubscribeMessage(TypedDict):
    """One PubNub message; ``d`` is bitbank's ``{"method", "params"}``."""

    a: str
    f: int
    p: TimeToken
    k: str
    c: str
    d: Any


class SubscribeResponse(TypedDict):
    """A long-poll answer: the next timetoken and the messages."""

    t: TimeToken
    m: list[SubscribeMessage]


def is_token_expired(error: BaseException) -> bool:
    """Whether ``error`` (from :func:`fetch_subscribe`) says the token expired."""
    body = error.args[0] if isinstance(error, ValueError) and error.args else None
    return isinstance(body, dict) and body.get("message") == TOKEN_EXPIRED


async def fetch_channel_and_token(
    client: Client, /, *, bitbank_server: str = DEFAULT_BITBANK_SERVER
) -> BaseResponse:
    """The account's PubNub channel and a new token (signed ``GET /v1/user/subscribe``).

    Raises:
        ValueError: bitbank refused (``success`` is not 1); the body is the argument.
        TransportError: the network failed.
    """
    result = await client.fetch("GET", f"{bitbank_server}/v1/user/subscribe")
    data = result.data
    if not isinstance(data, dict) or data.get("success") != 1:
        raise ValueError(data)
    inner = data.get("data")
    if not isinstance(inner, dict) or not {"pubnub_channel", "pubnub_token"} <= inner.keys():
        raise ValueError({"success": data.get("success"), "error": "no channel or token"})
    return cast("BaseResponse", data)


async def fetch_subscribe(
    client: Client,
    /,
    channel: str,
    token: str | None = None,
    tt: str | None = None,
    tr: str | None = None,
    *,
    pubnub_server: str = DEFAULT_PUBNUB_SERVER,
    subscribe_key: str = DEFAULT_SUBSCRIBE_KEY,
) -> SubscribeResponse:
    """One PubNub long-poll: the messages after timetoken ``tt`` (``None``: the current
    timetoken, at once, with no messages). Holds up to about 280 s when none come.

    Raises:
        ValueError: PubNub answered an error (the decoded body is the argument;
            :func:`is_token_expired` tells the expired token).
        TransportError: the network failed.
    """
    import aiohttp  # local: helpers import without the network stack

    params = {"uuid": channel, "tt": tt if tt is not None else "0"}
    if tr is not None:
        params["tr"] = tr
    if token is not None:
        params["auth"] = token
    result = await client.fetch(
        "GET",
        f"{pubnub_server}/v2/subscribe/{subscribe_key}/{channel}/0",
        params=params,
        auth=None,
        timeout=aiohttp.ClientTimeout(total=_POLL_TIMEOUT),
    )
    data = result.data
    if result.response.status != 200 or not isinstance(data, dict) or "t" not in data:
        raise ValueError(data if isinstance(data, dict) else {"status": result.response.status})
    return cast("SubscribeResponse", data)


async def subscribe(
    client: Client,
    /,
    channel: str | None = None,
    token: str | None = None,
    tt: str | None = None,
    tr: str | None = None,
    *,
    bitbank_server: str = DEFAULT_BITBANK_SERVER,
    pubnub_server: str = DEFAULT_PUBNUB_SERVER,
    subscribe_key: str = DEFAULT_SUBSCRIBE_KEY,
) -> AsyncGenerator[SubscribeResponse]:
    """Yield every long-poll answer, forever, following the timetoken.

    Fetches the channel and token when not given and again when PubNub says the
    token expired; any other error is raised (retrying is the caller's: see
    :class:`PrivateStream`, which also renews the token before it expires).
    """
    while True:
        if channel is None or token is None:
            credentials = (await fetch_channel_and_token(client, bitbank_server=bitbank_server))[
                "data"
            ]
            channel, token = credentials["pubnub_channel"], credentials["pubnub_token"]
        try:
            answer = await fetch_subscribe(
                client, channel, token, tt, tr,
                pubnub_server=pubnub_server, subscribe_key=subscribe_key,
            )  # fmt: skip
        except ValueError as exc:
            if is_token_expired(exc):
                token = None
                continue
            raise
        tt, tr = answer["t"]["t"], str(answer["t"]["r"])
        yield answer


async def subscribe_with_callback(
    client: Client,
    callback: Callable[[Any], object],
    /,
    channel: str | None = None,
    token: str | None = None,
    tt: str | None = None,
    tr: str | None = None,
    *,
    bitbank_server: str = DEFAULT_BITBANK_SERVER,
    pubnub_server: str = DEFAULT_PUBNUB_SERVER,
    subscribe_key: str = DEFAULT_SUBSCRIBE_KEY,
) -> None:
    """:func:`subscribe`, calling ``callback(message["d"])`` for each message
    (``bitbankPrivateDataStore.onmessage``). Runs until cancelled or an error."""
    async for answer in subscribe(
        client, channel, token, tt, tr,
        bitbank_server=bitbank_server, pubnub_server=pubnub_server, subscribe_key=subscribe_key,
    ):  # fmt: skip
        for message in answer["m"]:
            callback(message["d"])


class PrivateStream:
    """bitbank's private stream for one account, run on a Client.

    ``start()`` runs the loop on the Client (``Client.close()`` or :meth:`aclose`
    end it): fetch the channel and token; poll once for the current timetoken; seed
    ``store`` from REST (``initialize``: assets, active orders, margin positions, so
    nothing between the subscription and the snapshot is lost); then long-poll and
    hand each message's ``d`` to ``store.onmessage`` (and ``callback``, if given).

    The token is replaced every ``renew_interval`` seconds (the Client's clock), before
    it can expire; an expired token found by a poll is replaced at once and polling
    resumes from the same timetoken. Failures back off 1 s doubling to 60 s. A store
    message that raises is counted by the store, never stops the loop.

    Attributes: ``channel``, ``timetoken``, ``polls`` (answers), ``messages``,
    ``renewals`` (tokens fetched after the first), ``expired`` (polls refused as
    expired), ``failures``. The token itself is never shown.
    """

    def __init__(
        self,
        client: Client,
        store: Any = None,
        *,
        callback: Callable[[Any], object] | None = None,
        renew_interval: float = 1800.0,
        initialize: bool = True,
        bitbank_server: str = DEFAULT_BITBANK_SERVER,
        pubnub_server: str = DEFAULT_PUBNUB_SERVER,
        subscribe_key: str = DEFAULT_SUBSCRIBE_KEY,
    ) -> None:
        self.client = client
        self.store = store
        self.callback = callback
        self.initialize = initialize and store is not None
        self.bitbank_server = bitbank_server
        self.pubnub_server = pubnub_server
        self.subscribe_key = subscribe_key
        self._background = Background("bitbank private stream", lambda: self.client)
        self._keepalive: TokenKeepalive[tuple[str, str]] = TokenKeepalive(
            self._background,
            "PubNub token",
            interval=renew_interval,
            refresh=self._renew,
            create=self._credentials,
            install=self._install,
            expired=lambda error: False,  # a refresh is a new token: nothing to expire
            backoff=(1.0, 60.0),
            retry_on=(ValueError, *retryable_errors()),
        )
        self.channel: str | None = None
        self._token: str | None = None
        self.timetoken: str | None = None
        self._region: str | None = None
        self.polls = 0
        self.messages = 0
        self.renewals = 0
        self.expired = 0
        self.failures = 0
        self._tokens = 0

    def __repr__(self) -> str:
        return (
            f"<PrivateStream channel={self.channel!r} timetoken={self.timetoken!r} "
            f"polls={self.polls} messages={self.messages} running={self.running}>"
        )

    @property
    def running(self) -> bool:
        """Whether the loop runs."""
        return self._background.task("poll") is not None

    def start(self) -> bool:
        """Start the loop (once; a running loop is kept). Returns whether it runs."""
        return self._background.spawn(self._run(), "PubNub poll", key="poll") is not None

    async def aclose(self) -> None:
        """Stop the loop and the token renewal, and wait for them."""
        await self._background.aclose()

    # ----------------------------------------------------------------- token

    async def _credentials(self) -> tuple[str, str]:
        answer = await fetch_channel_and_token(self.client, bitbank_server=self.bitbank_server)
        data = answer["data"]
        return data["pubnub_channel"], data["pubnub_token"]

    def _install(self, credentials: tuple[str, str]) -> None:
        self.channel, self._token = credentials
        self._tokens += 1
        self.renewals = self._tokens - 1

    async def _renew(self) -> None:
        self._install(await self._credentials())

    async def _renew_until_done(self, backoff: Backoff) -> None:
        failures: tuple[type[BaseException], ...] = (ValueError, *retryable_errors())
        while True:
            try:
                self._install(await self._credentials())
            except failures as exc:
                self.failures += 1
                delay = backoff.failed(exc)
                logger.warning(
                    "bitbank: fetching the PubNub token failed (%s); retry in %gs",
                    _describe(exc),
                    delay,
                )
                await self._background.clock.sleep(delay)
                continue
            backoff.succeeded()
            return

    # ------------------------------------------------------------------ loop

    async def _seed(self) -> None:
        store, client, server = self.store, self.client, self.bitbank_server
        try:
            await store.initialize(
                client.get(f"{server}/v1/user/assets"),
                client.get(f"{server}/v1/user/spot/active_orders"),
                client.get(f"{server}/v1/user/margin/positions"),
            )
        except retryable_errors() as exc:
            # The stream still runs; the stores fill from its messages.
            logger.warning("bitbank: seeding the private stores failed (%s)", exc)

    def _deliver(self, answer: SubscribeResponse) -> None:
        for message in answer.get("m") or ():
            payload = message.get("d") if isinstance(message, dict) else None
            self.messages += 1
            if self.store is not None:
                self.store.onmessage(payload, None)
            if self.callback is not None:
                try:
                    self.callback(payload)
                except Exception:
                    logger.exception("bitbank: the private-stream callback failed")

    async def _run(self) -> None:
        backoff = Backoff(1.0, 60.0)
        await self._renew_until_done(backoff)
        self._keepalive.start()
        seeded = not self.initialize
        while True:
            channel, token = self.channel, self._token
            assert channel is not None
            assert token is not None
            try:
                answer = await fetch_subscribe(
                    self.client, channel, token, self.timetoken, self._region,
                    pubnub_server=self.pubnub_server, subscribe_key=self.subscribe_key,
                )  # fmt: skip
            except ValueError as exc:
                if is_token_expired(exc):
                    self.expired += 1
                    logger.info("bitbank: the PubNub token expired; fetching a new one")
                    await self._renew_until_done(backoff)
                    self._keepalive.start()  # the next renewal is a full interval away
                    continue
                self.failures += 1
                delay = backoff.failed(exc)
                logger.warning(
                    "bitbank: PubNub refused the poll (%s); new token in %gs",
                    _describe(exc),
                    delay,
                )
                await self._background.clock.sleep(delay)
                await self._renew_until_done(backoff)
                continue
            except retryable_errors() as exc:
                self.failures += 1
                delay = backoff.failed(exc)
                logger.warning("bitbank: PubNub poll failed (%s); retry in %gs", exc, delay)
                await self._background.clock.sleep(delay)
                continue
            backoff.succeeded()
            self.polls += 1
            timetoken = answer.get("t")
            if isinstance(timetoken, dict):
                self.timetoken, self._region = str(timetoken.get("t")), str(timetoken.get("r"))
            self._deliver(answer)
            if not seeded:
                seeded = True
                await self._seed()
            await asyncio.sleep(0)  # a burst of instant answers still yields the loop


def _describe(error: BaseException) -> str:
    body = error.args[0] if error.args else None
    if isinstance(body, dict):
        return str({k: body[k] for k in ("status", "message", "success") if k in body})
    return f"{type(error).__name__}: {error}" if not isinstance(error, ValueError) else "ValueError"
