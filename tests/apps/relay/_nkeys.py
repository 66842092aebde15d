"""NATS decentralized auth material for the relay tests, made with the ``nkeys`` package.

An operator, an account (JetStream allowed) and a user, each an NKey; the
operator's and account's JWTs for the server's configuration and the user's
``.creds`` file (JWT and seed) as ``nsc`` would write it. JWT layout: header
``{"typ": "JWT", "alg": "ed25519-nkey"}``, claims ``jti``/``iat``/``iss``/``sub``/
``name``/``nats``, ed25519 signature by the issuer, all base64url without padding
(https://docs.nats.io/running-a-nats-service/configuration/securing_nats/jwt).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nkeys


def new_seed(prefix: int) -> bytes:
    """A fresh NKey seed of the given kind (``nkeys.PREFIX_BYTE_USER``...)."""
    return bytes(nkeys.encode_seed(os.urandom(32), prefix))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(issuer: Any, subject: str, name: str, nats: dict[str, Any]) -> str:
    claims: dict[str, Any] = {
        "iat": int(time.time()),
        "iss": issuer.public_key.decode(),
        "name": name,
        "sub": subject,
        "nats": {**nats, "version": 2},
    }
    digest = hashlib.sha256(json.dumps(claims, separators=(",", ":")).encode()).digest()
    claims["jti"] = base64.b32encode(digest).decode().rstrip("=")
    header = _b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = _b64(issuer.sign(f"{header}.{body}".encode()))
    return f"{header}.{body}.{signature}"


@dataclass(frozen=True)
class OperatorSetup:
    """The server's configuration lines, the user's ``.creds`` file and seed."""

    server_config: str
    creds: Path
    user_seed: str


def operator_setup(directory: Path) -> OperatorSetup:
    """An operator, a system account, one account with JetStream and one user in
    it; writes ``user.creds``."""
    operator = nkeys.from_seed(new_seed(nkeys.PREFIX_BYTE_OPERATOR))
    account = nkeys.from_seed(new_seed(nkeys.PREFIX_BYTE_ACCOUNT))
    system = nkeys.from_seed(new_seed(nkeys.PREFIX_BYTE_ACCOUNT))  # JetStream needs one
    system_pub = system.public_key.decode()
    system_jwt = _jwt(operator, system_pub, "SYS", {"type": "account"})
    user_seed = new_seed(nkeys.PREFIX_BYTE_USER)
    user = nkeys.from_seed(bytearray(user_seed))
    operator_pub = operator.public_key.decode()
    account_pub = account.public_key.decode()
    operator_jwt = _jwt(operator, operator_pub, "datastores-test", {"type": "operator"})
    unlimited = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1}
    account_jwt = _jwt(
        operator,
        account_pub,
        "relay",
        {
            "type": "account",
            "limits": {
                **unlimited,
                "wildcards": True,
                "conn": -1,
                "leaf": -1,
                "mem_storage": -1,
                "disk_storage": -1,
                "streams": -1,
                "consumer": -1,
            },
        },
    )
    user_jwt = _jwt(
        account,
        user.public_key.decode(),
        "relay-user",
        {"type": "user", "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1},
    )
    creds = directory / "user.creds"
    creds.write_text(
        "-----BEGIN NATS USER JWT-----\n"
        f"{user_jwt}\n"
        "------END NATS USER JWT------\n\n"
        "-----BEGIN USER NKEY SEED-----\n"
        f"{user_seed.decode()}\n"
        "------END USER NKEY SEED------\n"
    )
    config = (
        f'operator: "{operator_jwt}"\n'
        f"system_account: {system_pub}\n"
        "resolver: MEMORY\n"
        f'resolver_preload: {{ {account_pub}: "{account_jwt}", {system_pub}: "{system_jwt}" }}\n'
    )
    return OperatorSetup(config, creds, user_seed.decode())
