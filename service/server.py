"""Serving processes: uvicorn workers on the asyncio loop, each with its own SO_REUSEPORT socket.

Measured under saturation (64 connections on two cores): uvloop served some connections far later
than others (p99 five times the asyncio loop's at the same throughput), and uvicorn's shared worker
socket is created without protocol TCP, so asyncio leaves Nagle on for its connections and a response
sent as headers then body waits for a delayed ACK (40 ms). Here every worker binds its own socket
(protocol TCP, so TCP_NODELAY is set on each connection) and the kernel spreads connections over them.
A response's head and body leave in one send (OneWriteProtocol): 10% more requests/s for a bare
endpoint and 15 to 25% more for recommendations, half of the CPU time here being the kernel's.

Python's cyclic garbage collector runs after every 700 new container objects and, now and then, walks
every object younger than the last gc.freeze: with answers being kept, a worker paused 10 to 180 ms at
a time, which set the p99 of treatment decisions (30 to 60 ms; 16 ms with the collector off). Request
objects are freed by reference counting, so server processes collect cycles only after
`TAILORWISE_GC_YOUNG_THRESHOLD` (50,000) new objects: p99 16 ms, as with the collector off.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import socket
import tempfile
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.config import get_settings
from service.logs import logging_config

APP = "service.main:create_app"
# prometheus-client's multiprocess mode: read by each process when it first counts something.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port, shareable by several processes (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class OneWriteTransport:
    """A connection's transport whose writes within one turn of the loop leave in one send.

    uvicorn writes a response's head and body separately: two sends, two TCP segments, and two
    wakeups of the client. Queued writes leave together once the current callback is done, or at once
    when they pass `FLUSH_BYTES` (so a long stream still meets the transport's flow control).
    """

    FLUSH_BYTES = 64 * 1024

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._queued: list[bytes] = []
        self._queued_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue bytes to leave with the others written in this turn of the loop."""
        if not self._queued:
            self._loop.call_soon(self._flush)
        self._queued.append(bytes(data))
        self._queued_bytes += len(data)
        if self._queued_bytes >= self.FLUSH_BYTES:
            self._flush()

    def close(self) -> None:
        """Send what is queued, then close."""
        self._flush()
        self._transport.close()

    def _flush(self) -> None:
        if not self._queued:
            return
        data = b"".join(self._queued)
        self._queued.clear()
        self._queued_bytes = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, a response's head and body sent in one segment, not two."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Wrap the connection's transport."""
        super().connection_made(OneWriteTransport(transport, self.loop))  # type: ignore[arg-type]


def collect_garbage_less_often(young_threshold: int) -> None:
    """Collect cyclic garbage after `young_threshold` new container objects (0: leave Python's default)."""
    if young_threshold > 0:
        _, middle, old = gc.get_threshold()
        gc.set_threshold(young_threshold, middle, old)


def run_worker(host: str, port: int, log_level: str, access_log: bool) -> None:
    """One server process: the app on the asyncio loop, listening on its own socket.

    Logging is the app's (service.logs): uvicorn's access log, which holds raw paths, stays off; the
    app's own access line (route template, request id) is on unless `access_log` is False.
    """
    collect_garbage_less_often(get_settings().gc_young_threshold)
    os.environ["TAILORWISE_ACCESS_LOG"] = "true" if access_log else "false"
    config = uvicorn.Config(
        APP,
        factory=True,
        loop="asyncio",
        http=OneWriteProtocol,
        log_config=logging_config(get_settings().json_logs, log_level),
        log_level=log_level,
        access_log=False,
    )
    uvicorn.Server(config).run(sockets=[listening_socket(host, port)])


def serve(host: str, port: int, workers: int, log_level: str = "info", access_log: bool = True) -> None:
    """Serve in this process (one worker) or in `workers` processes until one ends or a signal comes.

    A worker that dies ends the others too, so that the supervisor (Kubernetes, systemd) restarts the
    whole server rather than it running on with fewer workers unnoticed.
    """
    if workers == 1:
        run_worker(host, port, log_level, access_log)
        return
    if not hasattr(socket, "SO_REUSEPORT"):  # no per-process sockets here: uvicorn's shared one
        os.environ["TAILORWISE_ACCESS_LOG"] = "true" if access_log else "false"
        uvicorn.run(  # (no shared metrics folder here: set PROMETHEUS_MULTIPROC_DIR yourself)
            APP,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="asyncio",
            http=OneWriteProtocol,
            log_config=logging_config(get_settings().json_logs, log_level),
            log_level=log_level,
            access_log=False,
        )
        return
    own_metrics_dir = MULTIPROC_DIR not in os.environ
    if own_metrics_dir:  # every worker writes its metrics here; /metrics adds them up
        os.environ[MULTIPROC_DIR] = tempfile.mkdtemp(prefix="tailorwise-metrics-")
    try:
        _serve_processes(host, port, workers, log_level, access_log)
    finally:
        if own_metrics_dir:
            shutil.rmtree(os.environ.pop(MULTIPROC_DIR), ignore_errors=True)


def _serve_processes(host: str, port: int, workers: int, log_level: str, access_log: bool) -> None:
    """Start the worker processes on their own sockets; when one ends, end them all."""
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=run_worker, args=(host, port, log_level, access_log), name=f"worker-{n}")
        for n in range(workers)
    ]

    def stop(signum: int, frame: FrameType | None) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    for process in processes:
        process.start()
    multiprocessing.connection.wait([process.sentinel for process in processes])
    stop(signal.SIGTERM, None)
    for process in processes:
        process.join()
