"""Hyperliquid action signing (EIP-712), used by the Client for ``/exchange`` requests.

Facts (Hyperliquid docs https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/signing
and the official Python SDK, github.com/hyperliquid-dex/hyperliquid-python-sdk):

* **L1 actions** (orders, cancels, leverage...): the action is msgpack-encoded,
  followed by the nonce as 8 big-endian bytes, then ``0x00`` (no vault) or
  ``0x01`` + the 20-byte vault address, then, when ``expiresAfter`` is used,
  ``0x00`` + it as 8 big-endian bytes. Its keccak-256 is the ``connectionId`` of a
  "phantom agent" ``Agent(string source, bytes32 connectionId)`` with source
  ``"a"`` (mainnet) or ``"b"`` (testnet), signed on the domain
  ``Exchange / 1 / chainId 1337 / verifyingContract 0x0``.
* **User-signed actions** (transfers, withdrawals, agent approval...): the action
  has ``hyperliquidChain`` and is signed directly on the domain
  ``HyperliquidSignTransaction / 1 / chainId = signatureChainId / 0x0`` with the
  primary type ``HyperliquidTransaction:<Name>``.
* Signatures are secp256k1 over the EIP-191 digest, returned as ``{"r", "s", "v"}``
  with ``r``/``s`` as ``0x`` hex (no zero padding) and ``v`` 27 or 28.

Signing uses ``eth-account`` (extra ``hyperliquid``), imported only when needed.
msgpack is encoded here (:mod:`._msgpack`), so no other dependency is required.

Compatibility: :func:`construct_l1_action`, :func:`construct_user_signed_action`,
:func:`generate_message_types`, :func:`sign_typed_data` and :func:`get_timestamp_ms`
keep the argument order, return shapes (``(domain, types, message)`` tuples, a
``{primary type: fields}`` mapping, a ``{"r", "s", "v"}`` dict) and exception types
(``TypeError`` for an unsupported value, ``ValueError`` for a missing action type or
an unusable key) of the helper users migrate from, so ``sign_typed_data(key,
*construct_l1_action(action, nonce, True))`` works unchanged. Our errors subclass
those (:class:`~datastores.ConfigurationError` is a ``ValueError``).
:func:`sign_l1_action`, :func:`sign_user_signed_action` and
:func:`sign_exchange_payload` do the whole job in one call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias, TypedDict

from .._errors import ConfigurationError, MissingDependencyError
from ._msgpack import msgpack_packb

__all__ = [
    "USER_SIGNED_TYPES",
    "EIP712Domain",
    "MessageData",
    "MessageType",
    "MessageTypes",
    "PhantomAgentMessage",
    "Signature",
    "UnsupportedFieldType",
    "action_hash",
    "construct_l1_action",
    "construct_user_signed_action",
    "generate_message_types",
    "get_timestamp_ms",
    "msgpack_packb",
    "sign_exchange_payload",
    "sign_l1_action",
    "sign_typed_data",
    "sign_user_signed_action",
]

_INSTALL_HINT = "pip install 'datastores[hyperliquid]'"
_ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DEFAULT_SIGNATURE_CHAIN_ID = "0x66eee"


class EIP712Domain(TypedDict):
    """EIP-712 domain of a Hyperliquid signature."""

    name: str
    version: str
    chainId: int
    verifyingContract: str


class MessageType(TypedDict):
    """One field of an EIP-712 struct type."""

    name: str
    type: str


#: EIP-712 struct types by name (``{"Agent": [{"name": ..., "type": ...}, ...]}``).
MessageTypes: TypeAlias = Mapping[str, Sequence[MessageType]]
#: An EIP-712 message (an action, or a phantom agent).
MessageData: TypeAlias = Mapping[str, object]


class PhantomAgentMessage(TypedDict):
    """The message signed for an L1 action: ``source`` ``"a"``/``"b"`` and the action hash."""

    source: str
    connectionId: bytes


class UnsupportedFieldType(ConfigurationError, TypeError):
    """:func:`generate_message_types` met a value whose EIP-712 type it cannot infer."""


class Signature(TypedDict):
    """A Hyperliquid signature as sent in ``/exchange`` bodies."""

    r: str
    s: str
    v: int


def _field(name: str, type_: str) -> MessageType:
    return {"name": name, "type": type_}


_CHAIN = _field("hyperliquidChain", "string")
#: Known user-signed actions: action ``type`` -> (primary type, fields in signing order).
#: Field lists as published in the official Python SDK's ``utils/signing.py``.
USER_SIGNED_TYPES: dict[str, tuple[str, list[MessageType]]] = {
    "usdSend": (
        "HyperliquidTransaction:UsdSend",
        [
            _CHAIN,
            _field("destination", "string"),
            _field("amount", "string"),
            _field("time", "uint64"),
        ],
    ),
    "spotSend": (
        "HyperliquidTransaction:SpotSend",
        [
            _CHAIN,
            _field("destination", "string"),
            _field("token", "string"),
            _field("amount", "string"),
            _field("time", "uint64"),
        ],
    ),
    "withdraw3": (
        "HyperliquidTransaction:Withdraw",
        [
            _CHAIN,
            _field("destination", "string"),
            _field("amount", "string"),
            _field("time", "uint64"),
        ],
    ),
    "usdClassTransfer": (
        "HyperliquidTransaction:UsdClassTransfer",
        [_CHAIN, _field("amount", "string"), _field("toPerp", "bool"), _field("nonce", "uint64")],
    ),
    "sendAsset": (
        "HyperliquidTransaction:SendAsset",
        [
            _CHAIN,
            _field("destination", "string"),
            _field("sourceDex", "string"),
            _field("destinationDex", "string"),
            _field("token", "string"),
            _field("amount", "string"),
            _field("fromSubAccount", "string"),
            _field("nonce", "uint64"),
        ],
    ),
    "approveAgent": (
        "HyperliquidTransaction:ApproveAgent",
        [
            _CHAIN,
            _field("agentAddress", "address"),
            _field("agentName", "string"),
            _field("nonce", "uint64"),
        ],
    ),
    "approveBuilderFee": (
        "HyperliquidTransaction:ApproveBuilderFee",
        [
            _CHAIN,
            _field("maxFeeRate", "string"),
            _field("builder", "address"),
            _field("nonce", "uint64"),
        ],
    ),
    "tokenDelegate": (
        "HyperliquidTransaction:TokenDelegate",
        [
            _CHAIN,
            _field("validator", "address"),
            _field("wei", "uint64"),
            _field("isUndelegate", "bool"),
            _field("nonce", "uint64"),
        ],
    ),
    "convertToMultiSigUser": (
        "HyperliquidTransaction:ConvertToMultiSigUser",
        [_CHAIN, _field("signers", "string"), _field("nonce", "uint64")],
    ),
    "userDexAbstraction": (
        "HyperliquidTransaction:UserDexAbstraction",
        [_CHAIN, _field("user", "address"), _field("enabled", "bool"), _field("nonce", "uint64")],
    ),
}


# -- eth-account access ----------------------------------------------------------


def _eth() -> Any:
    try:
        import eth_account
        import eth_account.messages
        from eth_hash.auto import keccak
    except ImportError as exc:
        raise MissingDependencyError(
            f"signing Hyperliquid actions needs eth-account: {_INSTALL_HINT}"
        ) from exc
    return eth_account, keccak


def _keccak(data: bytes) -> bytes:
    _, keccak = _eth()
    digest: bytes = keccak(data)
    return digest


def _address_bytes(address: str) -> bytes:
    text = address[2:] if address.startswith(("0x", "0X")) else address
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ConfigurationError(f"vault address {address!r} is not hex") from None
    if len(raw) != 20:
        raise ConfigurationError(f"vault address {address!r} must be 20 bytes")
    return raw


def action_hash(
    action: Any, vault_address: str | None, nonce: int, expires_after: int | None = None
) -> bytes:
    """keccak-256 of msgpack(action) + nonce + vault marker (+ expiresAfter)."""
    data = bytearray(msgpack_packb(action))
    data += nonce.to_bytes(8, "big")
    if vault_address is None:
        data.append(0)
    else:
        data.append(1)
        data += _address_bytes(vault_address)
    if expires_after is not None:
        data.append(0)
        data += expires_after.to_bytes(8, "big")
    return _keccak(bytes(data))


def construct_l1_action(
    action: MessageData,
    nonce: int,
    is_mainnet: bool,
    vault_address: str | None = None,
    expires_after: int | None = None,
) -> tuple[EIP712Domain, MessageTypes, PhantomAgentMessage]:
    """EIP-712 ``(domain, types, message)`` of an L1 action (the phantom agent).

    ``nonce`` in milliseconds; ``vault_address`` ``0x`` + 40 hex digits when
    trading for a vault or sub-account; ``expires_after`` in milliseconds.
    Pass the tuple to :func:`sign_typed_data`. O(size of the action).

    Raises:
        ConfigurationError: a value msgpack cannot encode, or a bad vault address.
        MissingDependencyError: eth-account (keccak) is not installed.
    """
    connection_id = action_hash(action, vault_address, nonce, expires_after)
    domain: EIP712Domain = {
        "name": "Exchange",
        "version": "1",
        "chainId": 1337,
        "verifyingContract": _ZERO_ADDRESS,
    }
    types: MessageTypes = {"Agent": [_field("source", "string"), _field("connectionId", "bytes32")]}
    message: PhantomAgentMessage = {
        "source": "a" if is_mainnet else "b",
        "connectionId": connection_id,
    }
    return domain, types, message


def generate_message_types(message_data: MessageData) -> MessageTypes:
    """Infer ``{primary type: fields}`` from a user-signed action's values, in key order.

    The primary type is ``HyperliquidTransaction:`` + the action ``type`` with its
    first letter upper-cased and digits removed (``withdraw3`` -> ``Withdraw``).
    ``bool`` -> bool, ``int`` -> uint64, ``str`` -> string, ``bytes`` -> bytes32;
    ``type`` and ``signatureChainId`` are not signed. Address fields come out as
    ``string``: for the actions in :data:`USER_SIGNED_TYPES` that sign an
    ``address``, :func:`construct_user_signed_action` uses the table instead.

    Raises:
        UnsupportedFieldType: a value of another type (a ``TypeError``).
        ConfigurationError: no string ``type`` field (a ``ValueError``).
    """
    primary: str | None = None
    fields: list[MessageType] = []
    for name, value in message_data.items():
        if name == "type" and isinstance(value, str):
            primary = _primary_type(value)
            continue
        if name == "signatureChainId":
            continue
        if isinstance(value, bool):
            fields.append(_field(name, "bool"))
        elif isinstance(value, int):
            fields.append(_field(name, "uint64"))
        elif isinstance(value, str):
            fields.append(_field(name, "string"))
        elif isinstance(value, (bytes, bytearray)):
            fields.append(_field(name, "bytes32"))
        else:
            raise UnsupportedFieldType(
                f"cannot infer the EIP-712 type of field {name!r} ({type(value).__name__}); "
                "pass message_types"
            )
    if primary is None:
        raise ConfigurationError("a user-signed action needs a string 'type' field")
    return {primary: fields}


def _primary_type(action_type: str) -> str:
    name = "".join(ch for ch in action_type if not ch.isdigit())
    return "HyperliquidTransaction:" + name[:1].upper() + name[1:]


def construct_user_signed_action(
    action: MessageData, message_types: MessageTypes | None = None
) -> tuple[EIP712Domain, MessageTypes, MessageData]:
    """EIP-712 ``(domain, types, message)`` of a user-signed action.

    ``action`` holds ``type`` and ``hyperliquidChain``; the returned message is a
    copy with ``signatureChainId`` defaulting to ``0x66eee`` (the domain's chain
    id). Types: ``message_types`` if given, else the SDK's table
    (:data:`USER_SIGNED_TYPES`), else :func:`generate_message_types`.

    Raises:
        UnsupportedFieldType, ConfigurationError: see :func:`generate_message_types`.
    """
    message = dict(action)
    message.setdefault("signatureChainId", DEFAULT_SIGNATURE_CHAIN_ID)
    if message_types is None:
        known = USER_SIGNED_TYPES.get(str(message.get("type", "")))
        message_types = {known[0]: known[1]} if known else generate_message_types(message)
    try:
        chain_id = int(str(message["signatureChainId"]), 16)
    except ValueError:
        raise ConfigurationError("signatureChainId must be a hex string such as 0x66eee") from None
    domain: EIP712Domain = {
        "name": "HyperliquidSignTransaction",
        "version": "1",
        "chainId": chain_id,
        "verifyingContract": _ZERO_ADDRESS,
    }
    return domain, message_types, message


def sign_typed_data(
    private_key: str,
    domain_data: EIP712Domain,
    message_types: MessageTypes,
    message_data: MessageData,
) -> Signature:
    """Sign EIP-712 typed data: ``{"r", "s", "v"}`` with ``r``/``s`` as unpadded ``0x`` hex.

    ``message_types`` without ``EIP712Domain`` (it follows from ``domain_data``).

    Raises:
        ConfigurationError: the private key is unusable (a ``ValueError``; the
            message never shows the key).
        MissingDependencyError: eth-account is not installed.
    """
    eth_account, _ = _eth()
    types = {name: [dict(f) for f in fields] for name, fields in message_types.items()}
    types.pop("EIP712Domain", None)
    signable = eth_account.messages.encode_typed_data(
        domain_data=dict(domain_data), message_types=types, message_data=dict(message_data)
    )
    try:
        signed = eth_account.Account.sign_message(signable, private_key)
    except (ValueError, TypeError) as exc:
        # The original message could echo the key: name the problem only.
        raise ConfigurationError(
            f"the Hyperliquid private key is not usable ({type(exc).__name__})"
        ) from None
    return {"r": hex(signed.r), "s": hex(signed.s), "v": int(signed.v)}


def sign_l1_action(
    private_key: str,
    action: Any,
    nonce: int,
    *,
    is_mainnet: bool,
    vault_address: str | None = None,
    expires_after: int | None = None,
) -> Signature:
    """Sign an L1 action (orders, cancels...)."""
    typed = construct_l1_action(action, nonce, is_mainnet, vault_address, expires_after)
    return sign_typed_data(private_key, *typed)


def sign_user_signed_action(
    private_key: str,
    action: Mapping[str, Any],
    message_types: MessageTypes | Sequence[MessageType] | None = None,
) -> Signature:
    """Sign a user-signed action (it must carry ``hyperliquidChain``).

    ``message_types``: ``{primary type: fields}``, or only the fields (the primary
    type then follows from the action's ``type``); default as in
    :func:`construct_user_signed_action`.
    """
    if message_types is not None and not isinstance(message_types, Mapping):
        primary = _primary_type(str(action.get("type", "")))
        known = USER_SIGNED_TYPES.get(str(action.get("type", "")))
        message_types = {known[0] if known else primary: list(message_types)}
    return sign_typed_data(private_key, *construct_user_signed_action(action, message_types))


def get_timestamp_ms() -> int:
    """Current time in milliseconds (a fresh nonce)."""
    return int(time.time() * 1000)


def sign_exchange_payload(
    payload: Mapping[str, Any], private_key: str, *, is_mainnet: bool, now_ms: int
) -> dict[str, Any]:
    """Complete an ``/exchange`` body: fill ``nonce`` and ``signature`` when missing.

    A payload that already has ``signature`` is returned unchanged. For
    user-signed actions ``signatureChainId`` defaults to ``0x66eee`` and the
    nonce defaults to the action's own ``time``/``nonce`` field.

    Raises:
        ConfigurationError: no ``action`` object in the payload.
        MissingDependencyError: eth-account is not installed.
    """
    if "signature" in payload:
        return dict(payload)
    action = payload.get("action")
    if not isinstance(action, Mapping):
        raise ConfigurationError("a Hyperliquid /exchange body needs an 'action' object to sign")
    result = dict(payload)
    if "hyperliquidChain" in action:
        action = dict(action)
        action.setdefault("signatureChainId", DEFAULT_SIGNATURE_CHAIN_ID)
        own_nonce = action.get("time", action.get("nonce"))
        nonce = payload.get("nonce", own_nonce if isinstance(own_nonce, int) else now_ms)
        signature = sign_user_signed_action(private_key, action)
        result["action"] = action
    else:
        nonce = payload.get("nonce", now_ms)
        signature = sign_l1_action(
            private_key,
            action,
            int(nonce),
            is_mainnet=is_mainnet,
            vault_address=payload.get("vaultAddress"),
            expires_after=payload.get("expiresAfter"),
        )
    result["nonce"] = nonce
    result["signature"] = signature
    return result
