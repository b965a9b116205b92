"""Chat round trips through the gateway, as a ratio of a bare ``websockets`` echo server.

Both servers run in their own process on 127.0.0.1 and are driven by the same
client code (``websockets``, compression off) in this process, in the same
run, at 1 and 100 concurrent clients:

* baseline: a bare ``websockets`` echo server; one round trip = one message
  sent and its echo received;
* gateway: ``skillyard serve`` with the scripted echo model; one round trip =
  ``chat.send`` sent and that run's ``chat.final`` received (the gateway
  also sends the response, the stored user message, typing and deltas, and
  writes each event to SQLite).

Run: ``.venv/bin/python bench/gateway_roundtrip.py [--seconds 5]``.
Rate limits and the turn cap are raised for the run so that they do not
bound the measurement (the defaults protect a real server from one client).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import websockets
from websockets.asyncio.client import ClientConnection

ROOT = Path(__file__).resolve().parent.parent
READY = "skillyard is ready: "

ECHO_SERVER = """
import asyncio, sys
import websockets
async def echo(ws):
    async for message in ws:
        await ws.send(message)
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, compression=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
"""


@dataclass(frozen=True)
class Result:
    name: str
    clients: int
    round_trips: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.round_trips / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def echo_server() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"ws://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


@contextmanager
def gateway_server(token: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLYARD_")}
        env.update(
            SKILLYARD_HOME=home,
            SKILLYARD_TOKEN=token,
            SKILLYARD_MODEL="scripted:echo",
            SKILLYARD_LOG_LEVEL="warning",
            SKILLYARD_LIMITS__RATE_PER_SEC="1000000",
            SKILLYARD_LIMITS__BURST="1000000",
            SKILLYARD_SESSIONS__MAX_CONCURRENT_TURNS="256",
        )
        command = [sys.executable, "-m", "gateway.cli", "serve", "--port", "0"]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith(READY):
                raise RuntimeError(f"gateway did not start: {line!r}")
            port = line.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
            yield f"ws://127.0.0.1:{port}/ws"
        finally:
            proc.terminate()
            proc.wait()


async def echo_round_trip(ws: ClientConnection) -> None:
    await ws.send("x" * 64)
    await ws.recv()


async def gateway_connect(url: str, token: str) -> ClientConnection:
    ws = await websockets.connect(url, compression=None)
    await ws.recv()  # connect.challenge
    params = {
        "min_protocol": 1,
        "max_protocol": 1,
        "client": {"name": "bench", "version": "1"},
        "auth": {"token": token},
        "session": f"web:owner:bench-{secrets.token_hex(4)}",
    }
    await ws.send(json.dumps({"type": "req", "id": "c", "method": "connect", "params": params}))
    hello = json.loads(await ws.recv())
    assert hello["ok"], hello
    return ws


def gateway_round_trip() -> Callable[[ClientConnection], Awaitable[None]]:
    counter = iter(range(1, 1 << 62))
    prefix = secrets.token_hex(4)  # idempotency keys must never repeat, or dedupe answers

    async def round_trip(ws: ClientConnection) -> None:
        n = next(counter)
        params = {"text": "x" * 64, "idempotency_key": f"{prefix}-{n}"}
        await ws.send(
            json.dumps({"type": "req", "id": str(n), "method": "chat.send", "params": params})
        )
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("event") == "chat.final":
                return
            if frame.get("event") == "chat.error" or frame.get("ok") is False:
                raise RuntimeError(f"gateway error: {frame}")

    return round_trip


async def drive(
    name: str,
    clients: int,
    seconds: float,
    connect: Callable[[], Awaitable[ClientConnection]],
    round_trip: Callable[[ClientConnection], Awaitable[None]],
) -> Result:
    sockets = [await connect() for _ in range(clients)]
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def one_client(ws: ClientConnection) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await round_trip(ws)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one_client(ws) for ws in sockets))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(ws.close() for ws in sockets))
    return Result(name, clients, len(latencies), elapsed, latencies)


async def measure(seconds: float) -> list[tuple[Result, Result]]:
    token = secrets.token_urlsafe(24)
    pairs = []
    with echo_server() as echo_url, gateway_server(token) as gateway_url:
        for clients in (1, 100):
            baseline = await drive(
                "websockets echo",
                clients,
                seconds,
                lambda: websockets.connect(echo_url, compression=None),
                echo_round_trip,
            )
            gateway = await drive(
                "gateway chat",
                clients,
                seconds,
                lambda: gateway_connect(gateway_url, token),
                gateway_round_trip(),
            )
            pairs.append((baseline, gateway))
    return pairs


def report(pairs: list[tuple[Result, Result]]) -> None:
    print(f"{'clients':>7} {'server':<16} {'rt/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for baseline, gateway in pairs:
        for result in (baseline, gateway):
            print(
                f"{result.clients:>7} {result.name:<16} {result.per_second:>9.0f} "
                f"{result.percentile(0.5):>8.2f} {result.percentile(0.99):>8.2f}"
            )
        ratio = gateway.per_second / baseline.per_second
        p50 = statistics.median(gateway.latencies_ms) / statistics.median(baseline.latencies_ms)
        print(f"{'':>7} ratio gateway/echo: throughput {ratio:.3f}, p50 latency x{p50:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    args = parser.parse_args()
    report(asyncio.run(measure(args.seconds)))


if __name__ == "__main__":
    main()
