"""Preparing one HTTP request: URL building, body encoding and signing by host.

This is the pure half of :class:`datastores.Client`: no I/O, no session, the
time passed in. :func:`prepare_request` turns what the caller gave
(``method``, ``url``, ``params``, ``data``, ``headers``, ``auth``) into exactly
what goes on the wire, choosing the exchange signer by the URL's host from the
table built by :func:`datastores._registry.http_auth_by_host`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._credentials import Credentials
from ._errors import ConfigurationError
from ._signing import HttpAuth, SigningInput, encode_body

__all__ = [
    "Auth",
    "PreparedRequest",
    "build_url",
    "prepare_request",
    "redirect_url",
]

logger = logging.getLogger("datastores.client")

ParamsArg = Mapping[str, Any] | Sequence[tuple[str, Any]] | None

_FORMAT_CONTENT_TYPES = {
    "json": "application/json",
    "form": "application/x-www-form-urlencoded",
}


class Auth:
    """Sentinel for ``auth=``: sign the request by its host (the default).

    Pass ``auth=None`` to send a request unsigned (a public endpoint that
    refuses signed calls, or a host you sign yourself).
    """

    def __init__(self) -> None:  # pragma: no cover - a marker class, never instantiated
        raise TypeError("datastores.Auth is a marker: pass the class itself, auth=Auth")


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A request ready for aiohttp.

    Attributes:
        method: upper-case HTTP method.
        url: the real exchange URL, exact (already encoded; ``params`` merged;
            signature parameters added where the exchange puts them in the query).
        headers: the headers to send (caller's, then the signer's on top).
        body: exact body bytes for hosts with a signer, else ``None``.
        passthrough_data: the caller's ``data=`` for hosts no signer knows (aiohttp
            encodes it as it always does).
        exchange: exchange name of the matching signer, or ``None``.
        credential_name: the credential name used to sign, or ``None`` when unsigned.
    """

    method: str
    url: URL
    # Left out of repr(): headers can carry a passphrase (OKX, Bitget), bodies private data.
    headers: CIMultiDict[str] = field(repr=False)
    body: bytes | None = field(repr=False)
    passthrough_data: Any = field(repr=False)
    exchange: str | None
    credential_name: str | None

    @property
    def signed(self) -> bool:
        """Whether a signer added authentication."""
        return self.credential_name is not None


def _query_value(value: Any) -> Any:
    # yarl refuses bool; exchanges spell booleans in lower case in query strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def build_url(base_url: str, url: str | URL, params: ParamsArg = None) -> URL:
    """Resolve ``url`` against ``base_url`` and merge ``params`` into its query.

    A relative ``url`` is appended to ``base_url`` as plain text (the same rule as
    pybotters: no path joining). ``params`` are added after any query already in
    the URL, in order; ``True``/``False`` become ``true``/``false``.
    """
    if isinstance(url, URL):
        resolved = url if url.is_absolute() else URL(base_url + str(url))
    else:
        resolved = URL(url)
        if not resolved.is_absolute():
            resolved = URL(base_url + url)
    if not resolved.is_absolute():
        raise ConfigurationError(
            f"request URL {str(resolved)!r} is not absolute; give a full URL or set base_url"
        )
    if params:
        pairs = params.items() if isinstance(params, Mapping) else params
        resolved = resolved.extend_query([(str(k), _query_value(v)) for k, v in pairs])
    return resolved


def redirect_url(url: URL, redirects: Mapping[str, URL]) -> URL:
    """Send ``url`` to the base registered for its host, keeping path and query exactly.

    ``redirects`` maps a real host to a base URL (``http://127.0.0.1:8080``), whose
    scheme, host and port replace the real ones and whose path (if any) is put in
    front of the real path. URLs whose host is not in the map come back unchanged.
    """
    base = redirects.get(url.host or "")
    if base is None:
        return url
    prefix = base.raw_path.rstrip("/")
    return URL.build(
        scheme=base.scheme,
        host=base.raw_host or "",
        port=base.explicit_port,
        path=prefix + url.raw_path,
        query_string=url.raw_query_string,
        fragment=url.raw_fragment,
        encoded=True,
    )


def _lookup_auth(table: Mapping[str, HttpAuth], url: URL) -> HttpAuth | None:
    return table.get(url.host or "")


def prepare_request(
    method: str,
    url: URL,
    *,
    data: Any,
    headers: Mapping[str, str] | None,
    auth: Any,
    credentials: Mapping[str, Credentials],
    table: Mapping[str, HttpAuth],
    now: float,
) -> PreparedRequest:
    """Encode the body and sign the request if its host has a signer.

    Args:
        method: HTTP method (any case).
        url: the absolute URL with ``params`` merged (see :func:`build_url`).
        data: the request body: a mapping (encoded as the exchange requires),
            ``bytes``/``str`` (sent as given), or ``None``.
        headers: the caller's headers.
        auth: :class:`Auth` to sign by host, ``None`` to send unsigned.
        credentials: credentials by name.
        table: host -> :class:`HttpAuth`.
        now: current time in seconds since the epoch (the signer's clock).

    Raises:
        ConfigurationError: a bad ``auth=`` value.
    """
    method = method.upper()
    merged: CIMultiDict[str] = CIMultiDict(headers or {})
    if auth is not None and auth is not Auth:
        raise ConfigurationError(
            "auth= must be datastores.Auth (sign by host, the default) or None (unsigned); "
            f"got {type(auth).__name__}"
        )
    http_auth = _lookup_auth(table, url)
    if http_auth is None:
        return PreparedRequest(method, url, merged, None, data, None, None)

    body, content_type = encode_body(data, http_auth.body_format)
    if body and "Content-Type" not in merged:
        merged["Content-Type"] = content_type or _FORMAT_CONTENT_TYPES[http_auth.body_format]

    credential_name = _choose_credentials(http_auth, url, merged, auth)
    creds = credentials.get(credential_name) if credential_name is not None else None
    if creds is None:
        if credential_name is not None:
            logger.debug(
                "%s %s%s: no credentials named %r, sending unsigned",
                method,
                url.host,
                url.raw_path,
                credential_name,
            )
        return PreparedRequest(method, url, merged, body, None, http_auth.exchange, None)

    signed = http_auth.sign(
        SigningInput(
            method=method,
            url=url,
            body=body,
            headers=CIMultiDictProxy(merged),
            credentials=creds,
            now=now,
        )
    )
    for name, value in signed.headers.items():
        merged[name] = value
    if signed.body and "Content-Type" not in merged:
        merged["Content-Type"] = _FORMAT_CONTENT_TYPES[http_auth.body_format]
    return PreparedRequest(
        method, signed.url, merged, signed.body, None, http_auth.exchange, creds.name
    )


def _choose_credentials(
    http_auth: HttpAuth, url: URL, headers: Mapping[str, str], auth: Any
) -> str | None:
    if auth is None:
        return None
    if http_auth.applies is not None and not http_auth.applies(url):
        return None
    name = http_auth.hosts[url.host or ""]
    if http_auth.credential_name is not None:
        name = http_auth.credential_name(name, url, headers)
    return name
