"""What one client's request or one upstream's mistake may do to the next request on a pooled
upstream connection (SPEC §8, §14): bodies announced where none may follow, GET bodies an
upstream may read as a request of their own (CL.0), method overrides, and how an upstream
failure mid-body reaches a client that reads until close."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from conftest import Conn, assert_error, upstream_block
from upstream import recv_head

LATE = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nPOISONED"


class ScriptedUpstream:
    """A keep-alive HTTP/1.1 upstream on raw sockets. `answer(sock, method, path, headers)`
    writes each response (and may write more later); requests are recorded as
    (connection number, method, path, body)."""

    def __init__(self, answer):
        self.answer = answer
        self.requests: list[tuple[int, str, str, bytes]] = []
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            self.connections += 1
            conn.settimeout(5)
            threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        buffered = b""
        try:
            while not self.stopping.is_set():
                received = recv_head(conn, buffered)
                if received is None:
                    return
                head, buffered = received
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
                length = int(headers.get("content-length", "0"))
                while len(buffered) < length:
                    buffered += conn.recv(65536)
                body, buffered = buffered[:length], buffered[length:]
                self.requests.append((number, method, path, body))
                self.answer(conn, method, path, headers)
        except OSError:
            return
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()


def genuine(conn: socket.socket, path: str) -> None:
    body = f"genuine {path}".encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


@pytest.fixture
def scripted():
    made: list[ScriptedUpstream] = []

    def make(answer) -> ScriptedUpstream:
        up = ScriptedUpstream(answer)
        made.append(up)
        return up

    yield make
    for up in made:
        up.stop()


def public_gateway(gateways, port: int, extra_routes: str = ""):
    return gateways.start(upstream_block("u", port, extra="    read_timeout 3s;\n") + extra_routes
                          + "route /** { public; upstream u; }\n", workers=1)


# A body announced where the method or status says none follows (HEAD, 204, 304). An upstream
# that sends it anyway, in a later packet, would have it read as the next request's response on
# a reused connection: the connection is not reused.
@pytest.mark.parametrize("method,first", [
    ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(LATE)),
    ("HEAD", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("DELETE", b"HTTP/1.1 204 No Content\r\nContent-Length: %d\r\n\r\n" % len(LATE)),
    ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: %d\r\n\r\n" % len(LATE)),
])
def test_a_late_body_after_a_bodiless_response_reaches_nobody(gateways, scripted, method, first):
    def answer(conn, m, path, headers):
        if path == "/first":
            conn.sendall(first)
            time.sleep(0.05)
            conn.sendall(LATE)   # the body the head announced, where none may follow
        else:
            time.sleep(0.2)      # later than the late body
            genuine(conn, path)

    up = scripted(answer)
    gw = public_gateway(gateways, up.port)
    with Conn(gw.port) as c:
        c.send(f"{method} /first HTTP/1.1\r\nHost: gw\r\n\r\nGET /second HTTP/1.1\r\nHost: gw\r\n\r\n".encode())
        r1 = c.read_response(method)
        r2 = c.read_response()
    assert r1.status == int(first.split(b" ")[1]) and r1.body == b""
    assert r2.status == 200 and r2.body == b"genuine /second", r2
    with Conn(gw.port) as c:
        r3 = c.request("GET", "/third")
    assert r3.status == 200 and r3.body == b"genuine /third", r3
    assert [n for n, _, p, _ in up.requests if p != "/first"] == [2, 2], "a fresh connection after the bodiless response"


def test_a_204_reaches_the_client_without_content_length(gateways, scripted):
    up = scripted(lambda conn, m, path, h: conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nX-A: 1\r\n\r\n"))
    gw = public_gateway(gateways, up.port)
    r = gw.request("DELETE", "/x")
    assert r.status == 204 and r.header("X-A") == "1"
    assert r.header("Content-Length") is None, "RFC 9110 §8.6: never on a 204"


# An upstream that answers a GET without reading its body reads that body as a request of its
# own, past every route rule and with headers the client wrote (a CL.0 desync): the gateway
# does not forward content on GET, HEAD or TRACE (RFC 9110 §9.3.1).
@pytest.mark.parametrize("method", ["GET", "HEAD", "TRACE"])
@pytest.mark.parametrize("framing", ["Content-Length: 60", "Transfer-Encoding: chunked"])
def test_content_on_get_head_and_trace_is_refused(gateways, scripted, method, framing):
    up = scripted(lambda conn, m, path, h: genuine(conn, path))
    gw = public_gateway(gateways, up.port)
    smuggled = b"GET /admin/users HTTP/1.1\r\nHost: gw\r\nX-Auth-User-Id: root\r\n\r\n"
    body = smuggled.ljust(60, b" ") if framing.startswith("Content") else b"3c\r\n" + smuggled.ljust(60, b" ") + b"\r\n0\r\n\r\n"
    with Conn(gw.port) as c:
        c.send(f"{method} /static/logo.png HTTP/1.1\r\nHost: gw\r\n{framing}\r\n\r\n".encode() + body)
        r = c.read_response(method)
        assert r.status == 400
        if method != "HEAD":
            assert_error(r, 400, "invalid_request")
        assert c.wait_closed(3)
    assert up.requests == [], "nothing reached the upstream"
    # A GET without content, and content on DELETE, pass.
    assert gw.request("GET", "/ok", headers=[("Content-Length", "0")]).status == 200
    assert gw.request("DELETE", "/batch", body=b'{"ids":[1,2]}').status == 200
    assert [(m, body) for _, m, _, body in up.requests] == [("GET", b""), ("DELETE", b'{"ids":[1,2]}')]


@pytest.mark.parametrize("name", ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"])
def test_a_method_override_naming_another_method_is_refused(gateways, scripted, name):
    up = scripted(lambda conn, m, path, h: genuine(conn, path))
    gw = public_gateway(gateways, up.port, "route /items/** { methods GET POST; public; upstream u; }\n"
                                           "route /items/*/delete { deny; }\n")
    r = gw.request("POST", "/items/7", headers=[(name, "DELETE")], body=b"{}")
    assert_error(r, 400, "invalid_request")
    assert up.requests == []
    # Naming the request's own method is harmless and reaches the upstream.
    assert gw.request("POST", "/items/7", headers=[(name, "POST")], body=b"{}").status == 200
    assert len(up.requests) == 1


def test_a_method_query_parameter_naming_another_method_is_refused(gateways, scripted):
    # Symfony/Laravel and Spring read `_method` from a POST's query string.
    up = scripted(lambda conn, m, path, h: genuine(conn, path))
    gw = public_gateway(gateways, up.port, "route /users/{id} { methods POST; public; upstream u; }\n")
    for query in ("_method=DELETE", "_method=delete", "%5Fmethod=DELETE", "x=1&_method=PUT"):
        assert_error(gw.request("POST", f"/users/1?{query}", body=b"{}"), 400, "invalid_request")
    assert up.requests == []
    assert gw.request("POST", "/users/1?_method=POST", body=b"{}").status == 200


def test_an_underscore_method_override_never_reaches_the_upstream(gateways, module_upstream):
    gw = gateways.start(upstream_block("u", module_upstream.port) + "route /** { public; upstream u; }\n")
    r = gw.request("POST", "/x", headers=[("X_HTTP_Method_Override", "DELETE")], body=b"{}")
    assert r.status == 200
    sent = {name.lower() for name, _ in r.json()["headers"]}
    assert not any("method" in k for k in sent), sent


# A client reading until close (HTTP/1.0) cannot tell a cut-off body from a whole one by a FIN:
# an upstream failure mid-body resets the client connection instead.
@pytest.mark.parametrize("framing", [b"Content-Length: 100\r\n\r\n", b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"])
def test_a_body_cut_off_upstream_resets_an_http10_client(gateways, scripted, framing):
    def answer(conn, m, path, headers):
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + framing + (b"hello" if b"Content-Length" in framing else b""))
        time.sleep(0.1)
        conn.close()

    up = scripted(answer)
    gw = public_gateway(gateways, up.port)
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    s.sendall(b"GET /cut HTTP/1.0\r\n\r\n")
    received, reset = b"", False
    try:
        while chunk := s.recv(65536):
            received += chunk
    except ConnectionResetError:
        reset = True
    finally:
        s.close()
    assert received.startswith(b"HTTP/1.1 200") and b"hello" in received, received
    assert reset, "a clean close would make the cut-off body look complete"
