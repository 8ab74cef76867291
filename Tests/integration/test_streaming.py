"""SPEC §8 streaming: SSE events arrive incrementally, WebSocket tunnelling, 100 MiB bodies
both ways with bounded gateway memory."""

import base64
import hashlib
import os
import socket
import struct
import threading
import time

import pytest

from conftest import Conn, build_request, upstream_block
from upstream import WS_GUID, pattern_chunks, pattern_sha256, ws_frame, ws_mask

MIB = 1024 * 1024
HWM_LIMIT_KIB = 96 * 1024


@pytest.fixture(scope="module")
def gw(module_gateways, module_upstream):
    body = upstream_block("u", module_upstream.port, extra="    read_timeout 2s;\n") + """
limits { max_body 200m; }
route /api/** { public; upstream u; }
"""
    return module_gateways.new("stream").start(body)


@pytest.fixture
def up(module_upstream):
    module_upstream.reset()
    return module_upstream


def read_sse_event(c: Conn) -> bytes:
    """Reads one chunk of a chunked SSE stream (the upstream writes one event per chunk, but
    the gateway may re-chunk: read until the blank line that ends an event)."""
    event = bytearray()
    while not event.endswith(b"\n\n"):
        size = int(c.read_until(b"\r\n", 4096)[:-2].split(b";")[0], 16)
        assert size, f"stream ended early after {bytes(event)!r}"
        event += c.read_exact(size)
        assert c.read_exact(2) == b"\r\n"
    return bytes(event)


def test_sse_events_arrive_one_by_one(gw, up):
    with gw.connect(timeout=5) as c:
        c.send(build_request("GET", "/api/sse?n=4&gate=1", [("Accept", "text/event-stream")]))
        version, status, _, headers, _ = c.read_head()
        assert status == 200
        te = [v.lower() for n, v in headers if n.lower() == "transfer-encoding"]
        assert te == ["chunked"], headers
        for i in range(4):
            # event i must reach us before the upstream is allowed to write event i+1
            assert read_sse_event(c) == f"data: event-{i}\n\n".encode()
            if i < 3:
                up.release_sse()
        assert c.read_until(b"\r\n", 4096) == b"0\r\n"
        assert c.read_until(b"\r\n", 4096) == b"\r\n"


def test_streaming_response_not_cut_by_read_timeout(gw, up):
    # read_timeout (2s) is the time to the first byte; the whole stream lasts ~3s
    with gw.connect(timeout=5) as c:
        t0 = time.monotonic()
        r = c.request("GET", "/api/sse?n=6&delay_ms=600")
        assert r.status == 200
        assert r.body == b"".join(f"data: event-{i}\n\n".encode() for i in range(6))
        assert time.monotonic() - t0 >= 2.5


def ws_handshake(c: Conn, path: str = "/api/ws") -> None:
    key = base64.b64encode(os.urandom(16)).decode()
    c.send(build_request("GET", path, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                       ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")]))
    version, status, _, headers, raw = c.read_head()
    assert status == 101, raw
    h = {n.lower(): v for n, v in headers}
    assert h.get("upgrade", "").lower() == "websocket", headers
    assert "upgrade" in h.get("connection", "").lower(), headers
    expected = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
    assert h.get("sec-websocket-accept") == expected


def ws_read_frame(c: Conn) -> tuple[int, bytes]:
    b0, b1 = c.read_exact(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", c.read_exact(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", c.read_exact(8))[0]
    mask = c.read_exact(4) if b1 & 0x80 else None
    payload = c.read_exact(n)
    return b0 & 0x0F, ws_mask(payload, mask) if mask else payload


def test_websocket_tunnel_echo(gw, up):
    with gw.connect(timeout=5) as c:
        ws_handshake(c)
        c.send(ws_frame(0x1, b"hello websocket", mask=True))
        assert ws_read_frame(c) == (0x1, b"hello websocket")
        big = os.urandom(70000)
        c.send(ws_frame(0x2, big, mask=True))
        assert ws_read_frame(c) == (0x2, big)
        c.send(ws_frame(0x9, b"ping!", mask=True))
        assert ws_read_frame(c) == (0xA, b"ping!")
        c.send(ws_frame(0x8, struct.pack("!H", 1000), mask=True))
        assert ws_read_frame(c) == (0x8, struct.pack("!H", 1000))
        assert c.wait_closed(3)
    assert up.ws_unmasked_frames == 0, "client frames must reach the upstream untouched (masked)"
    assert up.requests[-1]["path"] == "/api/ws"


def test_websocket_tunnel_is_full_duplex_over_time(gw, up):
    with gw.connect(timeout=5) as c:
        ws_handshake(c)
        for i in range(5):
            msg = f"message {i}".encode()
            c.send(ws_frame(0x1, msg, mask=True))
            assert ws_read_frame(c) == (0x1, msg)
            time.sleep(0.05)


def test_chunked_download_of_several_mib(gw, up):
    n = 5 * MIB + 123
    h = hashlib.sha256()
    with gw.connect(timeout=10) as c:
        c.send(build_request("GET", f"/api/big?n={n}&chunked=1"))
        r = c.read_response(body_sink=h.update)
        assert r.status == 200
    assert h.hexdigest() == pattern_sha256(n)


@pytest.mark.slow
def test_100_mib_download_streams_with_bounded_memory(gw, up):
    n = 100 * MIB
    h = hashlib.sha256()
    count = 0

    def sink(piece: bytes) -> None:
        nonlocal count
        count += len(piece)
        h.update(piece)

    with gw.connect(timeout=30) as c:
        c.send(build_request("GET", f"/api/big?n={n}"))
        r = c.read_response(body_sink=sink)
        assert r.status == 200
    assert count == n
    assert h.hexdigest() == pattern_sha256(n)
    hwm = gw.vm_hwm_kib()
    assert hwm < HWM_LIMIT_KIB, f"gateway peak RSS {hwm} KiB: the body was buffered"


@pytest.mark.slow
def test_100_mib_upload_streams_with_bounded_memory(gw, up):
    n = 100 * MIB
    with gw.connect(timeout=30) as c:
        c.send(build_request("POST", "/api/sink", [("Content-Length", str(n)),
                                                    ("Content-Type", "application/octet-stream")]))
        for piece in pattern_chunks(n, 1 << 20):
            c.send(piece)
        r = c.read_response()
        assert r.status == 200, r
        doc = r.json()
    assert doc["body_len"] == n
    assert doc["sha256"] == pattern_sha256(n)
    hwm = gw.vm_hwm_kib()
    assert hwm < HWM_LIMIT_KIB, f"gateway peak RSS {hwm} KiB: the body was buffered"


@pytest.mark.slow
def test_50_mib_chunked_upload(gw, up):
    n = 50 * MIB
    with gw.connect(timeout=30) as c:
        c.send(build_request("POST", "/api/sink", [("Transfer-Encoding", "chunked")]))
        for piece in pattern_chunks(n, 256 * 1024):
            c.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
        c.send(b"0\r\n\r\n")
        r = c.read_response()
        assert r.status == 200, r
        doc = r.json()
    assert doc["body_len"] == n and doc["sha256"] == pattern_sha256(n)
    assert gw.vm_hwm_kib() < HWM_LIMIT_KIB


def test_upload_streams_before_body_is_complete(gw, up):
    """The upstream sees the start of the body before the client has sent all of it."""
    with gw.connect(timeout=10) as c:
        c.send(build_request("POST", "/api/sink", [("Transfer-Encoding", "chunked")]))
        first = b"x" * 300_000
        c.send(b"%x\r\n%s\r\n" % (len(first), first))
        # bytes must flow to the upstream while the request is still open
        deadline = time.monotonic() + 5
        while up.bytes_received < 200_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert up.bytes_received >= 200_000, f"upstream got {up.bytes_received} bytes: the body is buffered"
        c.send(b"0\r\n\r\n")
        r = c.read_response()
        assert r.status == 200 and r.json()["body_len"] == len(first)


def test_concurrent_streams(gw, up):
    errors = []

    def worker(i: int) -> None:
        try:
            n = 2 * MIB + i
            h = hashlib.sha256()
            with Conn(gw.port, 20) as c:
                c.send(build_request("GET", f"/api/big?n={n}"))
                r = c.read_response(body_sink=h.update)
                assert r.status == 200
            assert h.hexdigest() == pattern_sha256(n)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{i}: {exc!r}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors


@pytest.mark.slow
def test_download_to_a_slow_reader_applies_backpressure(gw, up):
    """A client that does not read must not make the gateway buffer the upstream's body."""
    n = 150 * MIB
    h = hashlib.sha256()
    with gw.connect(timeout=30) as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
        c.send(build_request("GET", f"/api/big?n={n}"))
        time.sleep(2.0)  # the upstream writes as fast as it can meanwhile
        hwm = gw.vm_hwm_kib()
        assert hwm < HWM_LIMIT_KIB, f"gateway peak RSS {hwm} KiB while the client was not reading"
        r = c.read_response(body_sink=h.update)
        assert r.status == 200
    assert h.hexdigest() == pattern_sha256(n)


@pytest.fixture(scope="module")
def patient_gw(module_gateways, module_upstream):
    """Default read_timeout (60s): for transfers that take longer than `gw`'s 2s."""
    body = upstream_block("u", module_upstream.port) + """
limits { max_body 200m; }
route /api/** { public; upstream u; }
"""
    return module_gateways.new("patient").start(body)


@pytest.mark.slow
def test_upload_to_a_slow_upstream_applies_backpressure(patient_gw, up):
    """An upstream that does not read must not make the gateway buffer the client's body."""
    gw = patient_gw
    n = 150 * MIB
    sent = [0]
    errors = []

    def writer(c: Conn) -> None:
        try:
            for piece in pattern_chunks(n, 1 << 20):
                c.send(piece)
                sent[0] += len(piece)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    with gw.connect(timeout=30) as c:
        c.send(build_request("POST", "/api/sink?delay_ms=2500", [("Content-Length", str(n))]))
        t = threading.Thread(target=writer, args=(c,))
        t.start()
        time.sleep(2.0)
        hwm = gw.vm_hwm_kib()
        assert sent[0] < n, "the whole body was accepted while the upstream read nothing"
        assert hwm < HWM_LIMIT_KIB, f"gateway peak RSS {hwm} KiB while the upstream was not reading"
        t.join(30)
        assert not errors, errors
        r = c.read_response()
        assert r.status == 200, r
        doc = r.json()
    assert doc["body_len"] == n and doc["sha256"] == pattern_sha256(n)


def test_slow_upload_is_not_cut_by_read_timeout(gw, up):
    """read_timeout is the wait for the response head once the request is sent: a streaming
    request body that takes longer than read_timeout (2s here) is not cut (SPEC §3, §8)."""
    with gw.connect(timeout=10) as c:
        c.send(build_request("POST", "/api/sink", [("Transfer-Encoding", "chunked")]))
        for _ in range(6):
            c.send(b"400\r\n" + b"u" * 1024 + b"\r\n")
            time.sleep(0.5)
        c.send(b"0\r\n\r\n")
        r = c.read_response()
        assert r.status == 200, r
        assert r.json()["body_len"] == 6 * 1024
