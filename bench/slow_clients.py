"""Trickling (slowloris) clients against gunicorn: how long a normal request waits while they trickle.

`make bench-slow-clients` (or `python -m bench.slow_clients`): serves the app with gunicorn (four
workers, an SQLite database in a temporary folder) twice: with plain sync workers (gunicorn's
defaults, `timeout` 30 s) and with deploy/gunicorn.conf.py (sync workers whose request reads end at
REQUEST_READ_TIMEOUT). Each time, one trickling client per worker sends its request headers one
byte every 0.5 s (never finishing), then a normal GET /healthz is timed; also how long each
trickler kept its connection. Prints the figures. Behind the buffering proxy the README describes,
the tricklers would wait on nginx instead and the normal request would not wait at all.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import tempfile
import threading
import time
from pathlib import Path

from tests.served import PROJECT_ROOT, flask_command, gunicorn, server_environment

CONFIG = str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py")
TRICKLE = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 10_000


def trickle(port: int, interval: float, give_up: float, held: list[float]) -> None:
    """Send TRICKLE a byte every `interval` seconds until the server closes or `give_up` passes;
    append how long the connection lasted."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=give_up) as sock:
        try:
            for byte in TRICKLE:
                sock.sendall(bytes([byte]))
                if time.monotonic() - started > give_up:
                    break
                # A trickling client is defined by its pauses.
                time.sleep(interval)
        except OSError:
            pass
    held.append(time.monotonic() - started)


def measure(port: int, workers: int, interval: float, give_up: float) -> tuple[float, list[float]]:
    """Start one trickler per worker, then time a normal request; returns its latency and how long
    each trickler held its connection."""
    held: list[float] = []
    threads = [threading.Thread(target=trickle, args=(port, interval, give_up, held))
               for _ in range(workers)]  # fmt: skip
    for thread in threads:
        thread.start()
    time.sleep(1)  # let every worker take its trickler first
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=give_up + 30)
    connection.request("GET", "/healthz")
    status = connection.getresponse().status
    latency = time.monotonic() - started
    assert status == 200, status
    for thread in threads:
        thread.join()
    return latency, sorted(held)


def main() -> None:
    """Print the normal request's latency and the tricklers' hold times, per configuration."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between bytes")
    parser.add_argument("--give-up", type=float, default=40, help="a trickler stops after this")
    parser.add_argument("--read-timeout", type=float, default=10, help="REQUEST_READ_TIMEOUT")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = server_environment(f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
                                 Path(folder) / "instance",
                                 REQUEST_READ_TIMEOUT=str(arguments.read_timeout))  # fmt: skip
        flask_command(env, "db", "upgrade")
        setups = {
            "plain sync workers (timeout 30)": ["--timeout", "30"],
            f"deploy/gunicorn.conf.py (read deadline {arguments.read_timeout:g} s)": [
                "--config", CONFIG],
        }  # fmt: skip
        for name, options in setups.items():
            with gunicorn(env, Path(folder) / "gunicorn.log", workers=arguments.workers,
                          options=options) as served:  # fmt: skip
                latency, held = measure(served.port, arguments.workers, arguments.interval,
                                        arguments.give_up)  # fmt: skip
            holds = ", ".join(f"{seconds:.1f}" for seconds in held)
            print(f"{name}: {arguments.workers} tricklers (1 byte / {arguments.interval:g} s); "
                  f"a normal GET /healthz took {latency:.2f} s; tricklers held {holds} s")  # fmt: skip


if __name__ == "__main__":
    main()
