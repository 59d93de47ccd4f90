"""Serving processes: per-worker sockets with Nagle off, responses in one send, workers behind one port."""

from __future__ import annotations

import asyncio
import gc
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
import uvicorn

from service import server
from service.config import Settings
from service.server import OneWriteTransport, listening_socket


def test_connections_accepted_on_a_worker_socket_have_nagle_off() -> None:
    async def main() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=listening_socket("127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        nodelay = await asyncio.wait_for(accepted, 5)
        writer.close()
        server.close()
        return nodelay

    assert asyncio.run(main()) != 0


def _startups_seen(errors: IO[bytes], lines: list[str], both_up: threading.Event) -> None:
    """Collect a server's log lines; set `both_up` once two workers have completed their startup."""
    started = 0
    for line in errors:
        lines.append(line.decode())
        started += b"Application startup complete" in line
        if started == 2:
            both_up.set()


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="per-worker sockets need SO_REUSEPORT")
def test_two_workers_share_one_port_and_stop_on_sigterm(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tailorwise = str(Path(sys.executable).with_name("tailorwise"))
    command = [tailorwise, "serve", "--port", str(port), "--workers", "2"]
    environment = {**os.environ, "TAILORWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}"}
    subprocess.run([tailorwise, "migrate"], env=environment, check=True, capture_output=True)
    process = subprocess.Popen([*command, "--no-access-log"], env=environment, stderr=subprocess.PIPE)
    assert process.stderr is not None
    lines: list[str] = []
    both_up = threading.Event()
    reader = threading.Thread(target=_startups_seen, args=(process.stderr, lines, both_up))
    reader.start()
    try:
        # One worker can answer every request while the other is still starting: wait for both.
        assert both_up.wait(60), "".join(lines)
        served = 0
        for _ in range(20):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            served += connection.getresponse().status == 200
            connection.close()
        assert served == 20
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        reader.join(timeout=30)
        process.stderr.close()
    assert process.returncode == 0, "".join(lines)


class RecordingTransport:
    """The part of an asyncio transport the one-write transport uses, recording what it is told."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info {name}"


def written(steps: Callable[[OneWriteTransport, RecordingTransport], None]) -> RecordingTransport:
    """What reaches the socket once the loop has run the steps and then its queued callbacks."""

    async def main() -> RecordingTransport:
        inner = RecordingTransport()
        steps(OneWriteTransport(inner, asyncio.get_running_loop()), inner)  # type: ignore[arg-type]
        await asyncio.sleep(0)
        return inner

    return asyncio.run(main())


def test_writes_within_one_turn_of_the_loop_leave_in_one_send_in_order() -> None:
    def respond(transport: OneWriteTransport, inner: RecordingTransport) -> None:
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(memoryview(b"body"))
        assert inner.sent == []  # nothing yet: the rest of the response may follow

    assert written(respond).sent == [b"HTTP/1.1 200 OK\r\n\r\nbody"]


def test_close_sends_what_is_queued_first_and_other_calls_reach_the_transport() -> None:
    def respond_and_close(transport: OneWriteTransport, inner: RecordingTransport) -> None:
        transport.write(b"head")
        transport.write(b"body")
        transport.close()
        assert inner.sent == [b"headbody"] and inner.closed
        assert transport.get_extra_info("peername") == "info peername"

    assert written(respond_and_close).sent == [b"headbody"]


def test_a_long_stream_leaves_as_it_grows() -> None:
    chunk = b"x" * (OneWriteTransport.FLUSH_BYTES // 2)

    def stream(transport: OneWriteTransport, inner: RecordingTransport) -> None:
        for _ in range(5):
            transport.write(chunk)
        assert [len(sent) for sent in inner.sent] == [2 * len(chunk), 2 * len(chunk)]

    assert [len(sent) for sent in written(stream).sent] == [2 * len(chunk), 2 * len(chunk), len(chunk)]


def test_nothing_is_written_to_a_transport_closed_meanwhile() -> None:
    def aborted(transport: OneWriteTransport, inner: RecordingTransport) -> None:
        transport.write(b"head")
        inner.closed = True  # the peer went away before the loop turned

    assert written(aborted).sent == []


def test_a_worker_collects_cyclic_garbage_less_often(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server process raises the collector's first threshold to the setting before it serves."""
    seen: list[int] = []
    monkeypatch.setenv("TAILORWISE_ACCESS_LOG", "true")  # run_worker sets it: restored after
    monkeypatch.setattr(server, "get_settings", lambda: Settings(gc_young_threshold=12_345))
    monkeypatch.setattr(server, "listening_socket", lambda host, port: None)
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: seen.append(gc.get_threshold()[0]))
    before = gc.get_threshold()
    try:
        server.run_worker("127.0.0.1", 0, "warning", access_log=False)
        assert seen == [12_345]
        server.collect_garbage_less_often(0)
        assert gc.get_threshold()[0] == 12_345  # 0 leaves it as it is
    finally:
        gc.set_threshold(*before)
