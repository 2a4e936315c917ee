"""The gunicorn worker deploy/gunicorn.conf.py names: sync workers with a deadline for reading each
request, so a client that trickles its request a byte at a time holds a worker for at most
REQUEST_READ_TIMEOUT seconds, not until gunicorn's worker timeout kills it.

A sync worker reads one request at a time; four trickling clients stalled all four workers for the
30 seconds of gunicorn's `timeout`. The deadline bounds that, but only a buffering reverse proxy in
front (README, "Deploying") makes slow clients harmless: it reads the whole request before gunicorn
sees any of it.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from gunicorn.workers.sync import SyncWorker

#: Seconds a client has to send a whole request (line, headers and body) once connected.
DEFAULT_READ_TIMEOUT = 10.0
#: Seconds a client may take to accept each part of the response.
DEFAULT_WRITE_TIMEOUT = 30.0


def _seconds(name: str, default: float) -> float:
    """A positive number of seconds from the environment variable `name`, else `default`."""
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default


class DeadlineSocket:
    """A client socket whose reads end at a deadline: after it, a read returns b"" as if the client
    had hung up, which gunicorn and Werkzeug already treat as a disconnection (no traceback, and a
    400 if the body was cut short). Everything else is the socket's own."""

    def __init__(self, sock: socket.socket, *, read_timeout: float, write_timeout: float) -> None:
        self._sock = sock
        self._deadline = time.monotonic() + read_timeout
        self._write_timeout = write_timeout
        #: A shorter timeout a caller asked for (gunicorn's graceful close drains for 2 seconds).
        self._caller_timeout: float | None = None
        self.timed_out = False

    def settimeout(self, value: float | None) -> None:
        """Remember the caller's timeout; reads wait for the shorter of it and the deadline."""
        self._caller_timeout = value

    def _remaining(self) -> float | None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            self.timed_out = True
            return None
        return remaining

    def recv(self, size: int, *flags: int) -> bytes:
        """Read as socket.recv, but never past the deadline."""
        remaining = self._remaining()
        if remaining is None:
            return b""
        caller = self._caller_timeout
        self._sock.settimeout(remaining if caller is None else min(caller, remaining))
        try:
            return self._sock.recv(size, *flags)
        except TimeoutError:
            if caller is not None and caller < remaining:
                raise
            self.timed_out = True
            return b""

    def recv_into(self, buffer: Any, *args: int) -> int:
        """Read as socket.recv_into, but never past the deadline."""
        data = self.recv(len(buffer) if not args or not args[0] else args[0])
        buffer[: len(data)] = data
        return len(data)

    def send(self, data: bytes, *flags: int) -> int:
        self._sock.settimeout(self._write_timeout)
        return self._sock.send(data, *flags)

    def sendall(self, data: bytes, *flags: int) -> None:
        self._sock.settimeout(self._write_timeout)
        self._sock.sendall(data, *flags)

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        self._sock.settimeout(self._write_timeout)
        return self._sock.sendfile(file, offset, count)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class RequestDeadlineWorker(SyncWorker):
    """gunicorn's sync worker, reading each request under a deadline (REQUEST_READ_TIMEOUT,
    seconds, default 10) and writing each response part under REQUEST_WRITE_TIMEOUT (default 30)."""

    def init_process(self) -> None:
        self.read_timeout = _seconds("REQUEST_READ_TIMEOUT", DEFAULT_READ_TIMEOUT)
        self.write_timeout = _seconds("REQUEST_WRITE_TIMEOUT", DEFAULT_WRITE_TIMEOUT)
        super().init_process()

    def handle(self, listener: Any, client: socket.socket, addr: Any) -> None:
        if self.cfg.is_ssl:
            # TLS belongs to the proxy in front; wrapping would hide the socket from the deadline.
            super().handle(listener, client, addr)
            return
        guarded = DeadlineSocket(
            client, read_timeout=self.read_timeout, write_timeout=self.write_timeout
        )
        super().handle(listener, guarded, addr)  # type: ignore[arg-type]
        if guarded.timed_out:
            self.log.warning(
                "Closed a connection from %s: no complete request within %g seconds",
                addr[0] if isinstance(addr, tuple) else addr,
                self.read_timeout,
            )
