"""Serving processes: per-worker sockets with Nagle off, several workers behind one port."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.server import listening_socket


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
    try:
        deadline, served = time.monotonic() + 30, 0
        while served < 20 and time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/healthz")
                served += connection.getresponse().status == 200
                connection.close()
            except OSError:
                time.sleep(0.2)
        assert served == 20
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors.decode()
    assert errors.decode().count("Application startup complete") == 2
