"""SPEC §13 limits: 431 for big heads, 413 for big bodies, head deadline (slowloris),
idle keep-alive timeout, max_connections."""

import socket
import threading
import time

import pytest

from conftest import HOST, Conn, IncompleteResponse, assert_error, build_request, request, upstream_block, wait_until
from upstream import recv_head

LIMITS = """
limits {
    max_head 2k;
    max_headers 20;
    max_body 1k;
    head_timeout 1s;
    idle_timeout 2s;
}
"""


@pytest.fixture(scope="module")
def gw(module_gateways, module_upstream):
    body = LIMITS + upstream_block("u", module_upstream.port) + """
route /api/** { public; upstream u; }
route /healthz { public; respond 200 "ok"; }
"""
    return module_gateways.new("limits").start(body)


@pytest.fixture
def up(module_upstream):
    module_upstream.reset()
    return module_upstream


def test_head_over_max_head_is_431(gw, up):
    r = gw.request("GET", "/api/x", headers=[("X-Big", "a" * 3000)])
    assert_error(r, 431, "headers_too_large")
    assert up.requests == []


def test_long_request_line_is_rejected(gw, up):
    r = gw.request("GET", "/api/" + "a" * 3000)
    assert r.status in (414, 431), r
    assert up.requests == []


def test_too_many_headers_is_431(gw, up):
    r = gw.request("GET", "/api/x", headers=[(f"X-H{i}", "v") for i in range(30)])
    assert_error(r, 431, "headers_too_large")
    assert up.requests == []


def test_head_within_limits_passes(gw, up):
    r = gw.request("GET", "/api/x", headers=[(f"X-H{i}", "v" * 20) for i in range(15)])
    assert r.status == 200, r


def test_content_length_over_max_body_is_413_immediately(gw, up):
    with Conn(gw.port, timeout=3) as c:
        # only the head is sent: the answer may not wait for the body
        c.send(build_request("POST", "/api/x", [("Content-Length", "5000")]))
        r = c.read_response()
        assert_error(r, 413, "payload_too_large")
    time.sleep(0.2)
    assert up.requests == []


def test_expect_100_continue_over_max_body_gets_413_without_100(gw, up):
    with Conn(gw.port, timeout=3) as c:
        c.send(build_request("POST", "/api/x", [("Content-Length", "5000"), ("Expect", "100-continue")]))
        r = c.read_response(allow_interim=True)
        assert_error(r, 413, "payload_too_large")


def test_body_at_max_body_passes(gw, up):
    r = gw.request("POST", "/api/x", body=b"b" * 1024)
    assert r.status == 200 and r.json()["body_len"] == 1024


def test_chunked_body_over_max_body_is_413(gw, up):
    with Conn(gw.port, timeout=5) as c:
        c.send(build_request("POST", "/api/x", [("Transfer-Encoding", "chunked")]))
        try:
            for _ in range(4):
                c.send(b"200\r\n" + b"c" * 512 + b"\r\n")
                time.sleep(0.05)
            c.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = c.read_response()
        assert_error(r, 413, "payload_too_large")
    time.sleep(0.2)
    assert [r for r in up.requests if r.get("body_len", 0) > 1024] == [], "an oversized body was delivered"


def time_until_closed(c: Conn, limit: float) -> tuple[float, bytes]:
    t0 = time.monotonic()
    c.settimeout(limit)
    got = b""
    try:
        while True:
            data = c.sock.recv(65536)
            if not data:
                break
            got += data
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError(f"connection still open after {limit}s (got {got!r})")
    return time.monotonic() - t0, got


def check_timeout_answer(got: bytes) -> None:
    if got:
        assert got.startswith(b"HTTP/1.1 408") or got.startswith(b"HTTP/1.0 408"), got[:200]


def test_incomplete_head_times_out(gw, up):
    with Conn(gw.port) as c:
        c.send(b"GET /api/x HTTP/1.1\r\nHost: a\r\n")
        elapsed, got = time_until_closed(c, 5)
    assert 0.7 <= elapsed <= 3.0, elapsed
    check_timeout_answer(got)
    assert up.requests == []


def test_silent_connection_is_closed(gw, up):
    with Conn(gw.port) as c:
        elapsed, got = time_until_closed(c, 5)
    assert elapsed <= 3.5, elapsed
    check_timeout_answer(got)


def test_slowloris_is_cut_at_the_deadline_while_others_are_served(gw, up):
    latencies: list[float] = []
    failures: list[str] = []
    stop = threading.Event()

    def others() -> None:
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                r = gw.request("GET", "/healthz", timeout=3)
                if r.status != 200:
                    failures.append(repr(r))
            except Exception as exc:  # noqa: BLE001
                failures.append(repr(exc))
            latencies.append(time.monotonic() - t0)
            time.sleep(0.05)

    t = threading.Thread(target=others)
    t.start()
    try:
        with Conn(gw.port) as c:
            start = time.monotonic()
            c.send(b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-Slow: ")
            cut_at = None
            got = b""
            while time.monotonic() - start < 5:
                try:
                    c.send(b"a")
                except (BrokenPipeError, ConnectionResetError):
                    cut_at = time.monotonic() - start
                    break
                c.settimeout(0.1)
                try:
                    data = c.sock.recv(4096)
                    if not data:
                        cut_at = time.monotonic() - start
                        break
                    got += data
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    cut_at = time.monotonic() - start
                    break
            assert cut_at is not None, "a byte every 100 ms kept the head open for 5 s"
            assert cut_at <= 2.5, f"cut after {cut_at:.2f}s, head_timeout is 1s"
            check_timeout_answer(got)
    finally:
        stop.set()
        t.join(10)
    assert not failures, failures
    assert len(latencies) >= 5
    assert max(latencies) < 1.0, f"other clients were stalled: {max(latencies):.2f}s"


def test_idle_keep_alive_connection_is_closed(gw, up):
    with Conn(gw.port) as c:
        assert c.request("GET", "/healthz").status == 200
        elapsed, got = time_until_closed(c, 6)
    # idle_timeout (2s) applies between requests, not head_timeout (1s)
    assert 1.6 <= elapsed <= 4.5, elapsed
    assert got == b"" or got.startswith(b"HTTP/1.1 408"), got


def test_keep_alive_connection_stays_open_before_idle_timeout(gw, up):
    with Conn(gw.port) as c:
        assert c.request("GET", "/healthz").status == 200
        time.sleep(1.3)  # longer than head_timeout, shorter than idle_timeout
        assert c.request("GET", "/healthz").status == 200
        time.sleep(1.3)
        assert c.request("GET", "/healthz").status == 200


def test_slow_response_is_not_cut_by_head_timeout(gw, up):
    # head_timeout covers the request head only, not the time the upstream takes
    with Conn(gw.port, timeout=5) as c:
        r = c.request("GET", "/api/slow?ms=1500")
        assert r.status == 200


def test_max_connections(gateways, upstream):
    gw = gateways.start(upstream_block("u", upstream.port) + """
limits { max_connections 5; }
route /healthz { public; respond 200 "ok"; }
""")
    time.sleep(0.3)  # the readiness probe's connection is gone
    held = []
    try:
        for _ in range(5):
            c = Conn(gw.port, timeout=3)
            held.append(c)
            assert c.request("GET", "/healthz").status == 200
        # the 6th is accepted (the TCP handshake completes) and closed
        extra = socket.create_connection((HOST, gw.port), timeout=3)
        try:
            extra.settimeout(3)
            try:
                extra.sendall(build_request("GET", "/healthz"))
                data = extra.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            assert not data.startswith(b"HTTP/1.1 200"), "a 6th connection was served"
        finally:
            extra.close()
        # the held connections still work
        for c in held:
            assert c.request("GET", "/healthz").status == 200
        # freeing one slot lets a new client in
        held.pop().close()
        deadline = time.monotonic() + 3
        while True:
            try:
                with Conn(gw.port, timeout=2) as c:
                    if c.request("GET", "/healthz").status == 200:
                        break
            except (IncompleteResponse, OSError):
                pass
            assert time.monotonic() < deadline, "no slot was freed after a client left"
            time.sleep(0.1)
    finally:
        for c in held:
            c.close()


# -- body_timeout: a request body that stops arriving while it is forwarded ----------------------

@pytest.fixture
def body_gw(gateways, up):
    # read_timeout shorter than body_timeout: a stalled client must not look like a slow server.
    return gateways.new("body-timeout").start(
        "limits { body_timeout 1500ms; max_body 1m; }\n"
        + upstream_block("u", up.port, extra="    read_timeout 500ms;\n", server_opts="max_fails=1 fail_timeout=30s")
        + "route /api/** { public; upstream u; }\n", admin=True, access_log="stdout")


def upstream_errors(gw) -> list[str]:
    text = request(gw.admin_port, "GET", "/metrics").body.decode()
    return [line for line in text.splitlines()
            if line.startswith(("gateway_upstream_errors_total{", "gateway_upstream_ejections_total{")) and not line.endswith(" 0")]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_stalled_request_body_is_408_and_not_the_upstreams_fault(body_gw, up, framing):
    with Conn(body_gw.port) as c:
        if framing == "chunked":
            c.send(b"POST /api/upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        else:
            c.send(b"POST /api/upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nhello")
        elapsed, got = time_until_closed(c, 6)
    assert 1.2 <= elapsed <= 4.0, elapsed
    assert got.startswith(b"HTTP/1.1 408"), got[:200]
    assert b"request_timeout" in got
    assert upstream_errors(body_gw) == [], "a client that stops sending is not the server's failure"
    wait_until(lambda: '"reason":"body_timeout"' in body_gw.stdout_text(), message="access log line")
    assert body_gw.request("GET", "/api/after").status == 200, "the server was not ejected"


def test_a_slow_but_steady_body_passes_beyond_body_timeout_and_read_timeout(body_gw, up):
    pieces = [b"x" * 10] * 8   # one piece every 0.4 s: 3.2 s in all, each gap under body_timeout
    with Conn(body_gw.port, timeout=10) as c:
        c.send(b"POST /api/steady HTTP/1.1\r\nHost: a\r\nContent-Length: 80\r\n\r\n")
        for piece in pieces:
            time.sleep(0.4)
            c.send(piece)
        r = c.read_response()
    assert r.status == 200, r
    assert r.json()["body_len"] == 80
    assert upstream_errors(body_gw) == []


def test_a_response_streaming_before_the_upload_ends_is_not_cut_by_read_timeout(gateways):
    # An upstream answering an upload as it arrives (NDJSON/SSE progress) streams beyond the
    # end of the request body: read_timeout (here 1 s) ends at the response head.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(10)

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            recv_head(conn, b"")
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(8):              # 4 s of events, 0.5 s apart
                conn.sendall(b"6\r\nevent%d\r\n" % i)
                time.sleep(0.5)
            conn.sendall(b"0\r\n\r\n")
            time.sleep(0.5)

    threading.Thread(target=serve, daemon=True).start()
    try:
        gw = gateways.start(upstream_block("u", listener.getsockname()[1], extra="    read_timeout 1s;\n")
                            + "route /** { public; upstream u; }\n")
        with Conn(gw.port, timeout=10) as c:
            c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello")
            time.sleep(0.6)
            c.send(b"world")                # the body ends while the response streams
            r = c.read_response("POST")
        assert r.status == 200
        assert r.body == b"".join(b"event%d" % i for i in range(8)), r.body
    finally:
        listener.close()
