"""SPEC §8 forwarding: header rewriting, X-Forwarded-*, X-Request-Id, bodies, keep-alive,
pipelining, Expect: 100-continue, HTTP/1.0 clients, chunked in both directions."""

import threading
import time

import pytest

from conftest import TLS_MODE, Conn, build_request, chunked, echo, hdr, upstream_block, wait_until
from upstream import Upstream

ROUTES = """
route /api/** { public; upstream u; }
route /healthz { public; respond 200 "ok"; }
"""


@pytest.fixture(scope="module")
def gw(module_gateways, module_upstream):
    return module_gateways.new("fwd").start(upstream_block("u", module_upstream.port) + ROUTES)


@pytest.fixture(scope="module")
def trusted_gw(module_gateways, module_upstream):
    body = "trust_proxies 127.0.0.1/32;\n" + upstream_block("u", module_upstream.port) + ROUTES
    return module_gateways.new("trusted").start(body)


@pytest.fixture
def up(module_upstream):
    module_upstream.reset()
    return module_upstream


def names(doc) -> list[str]:
    return [n.lower() for n, _ in doc["headers"]]


def test_end_to_end_headers_and_body(gw, up):
    r = gw.request("POST", "/api/echo", headers=[("X-Custom", "Value 1"), ("Content-Type", "text/plain")],
                   body=b"hello body")
    doc = echo(r)
    assert doc["method"] == "POST"
    assert doc["body"] == "hello body"
    assert hdr(doc["headers"], "X-Custom") == ["Value 1"]
    assert hdr(doc["headers"], "Content-Type") == ["text/plain"]
    assert len(hdr(doc["headers"], "Host")) == 1
    assert r.header("X-Upstream") == up.name, "upstream response headers are passed back"


def test_upstream_status_and_body_pass_through(gw, up):
    for code in (201, 404, 418, 500, 503):
        r = gw.request("GET", f"/api/status/{code}")
        assert r.status == code and r.body == f"status {code}".encode(), r
    r = gw.request("GET", "/api/status/204")
    assert r.status == 204 and r.body == b""


def test_hop_by_hop_headers_are_removed(gw, up):
    doc = echo(gw.request("GET", "/api/hop", headers=[
        ("Connection", "keep-alive, X-Drop-Me, x-also-drop"),
        ("Keep-Alive", "timeout=5"),
        ("Proxy-Authorization", "Basic Zm9vOmJhcg=="),
        ("TE", "gzip"),
        ("X-Drop-Me", "1"),
        ("X-Also-Drop", "2"),
        ("X-Keep", "3"),
    ]))
    got = names(doc)
    for h in ("keep-alive", "proxy-authorization", "te", "x-drop-me", "x-also-drop"):
        assert h not in got, f"{h} was forwarded: {doc['headers']}"
    assert hdr(doc["headers"], "X-Keep") == ["3"]
    assert all("x-drop-me" not in v.lower() for v in hdr(doc["headers"], "Connection"))


def test_client_cannot_remove_gateway_injected_headers(gw, up):
    doc = echo(gw.request("GET", "/api/conn", headers=[
        ("Connection", "X-Forwarded-For, X-Request-Id, X-Forwarded-Proto, X-Forwarded-Host")]))
    for h in ("X-Forwarded-For", "X-Request-Id", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert len(hdr(doc["headers"], h)) == 1, f"{h} missing: {doc['headers']}"


def test_identity_headers_from_client_are_stripped(gw, up):
    doc = echo(gw.request("GET", "/api/spoof", headers=[
        ("X-Auth-User-Id", "admin"),
        ("x-auth-roles", "admin"),
        ("X-AUTH-EMAIL", "root@example.com"),
        ("X_Auth_User_Id", "admin"),
        ("x_auth-org_id", "evil"),
        ("X-Auth-Anything-New", "1"),
        ("X-Authorization-Note", "kept"),  # not the identity prefix
    ]))
    spoofed = [n for n, _ in doc["headers"] if n.lower().replace("_", "-").startswith("x-auth-")]
    assert spoofed == [], f"identity headers reached the upstream: {doc['headers']}"
    assert hdr(doc["headers"], "X-Authorization-Note") == ["kept"]


def test_credentials_are_stripped_on_public_routes(gw, up):
    doc = echo(gw.request("GET", "/api/cred", headers=[("Authorization", "Bearer abc.def.ghi")]))
    assert hdr(doc["headers"], "Authorization") == [], "public routes ignore and strip credentials (SPEC §4)"


def test_x_forwarded_for_from_untrusted_peer_is_replaced(gw, up):
    doc = echo(gw.request("GET", "/api/xff", headers=[("X-Forwarded-For", "1.2.3.4"),
                                                      ("X-Forwarded-For", "5.6.7.8")]))
    assert hdr(doc["headers"], "X-Forwarded-For") == ["127.0.0.1"]


def test_x_forwarded_for_from_trusted_proxy_is_appended(trusted_gw, up):
    doc = echo(trusted_gw.request("GET", "/api/xff", headers=[("X-Forwarded-For", "1.2.3.4, 10.0.0.1")]))
    values = hdr(doc["headers"], "X-Forwarded-For")
    assert len(values) == 1, values
    assert [p.strip() for p in values[0].split(",")] == ["1.2.3.4", "10.0.0.1", "127.0.0.1"]


def test_underscore_spellings_are_never_believed_even_through_a_trusted_proxy(trusted_gw, up):
    # Caddy or Traefik pass a client's X_Forwarded_For through next to their own X-Forwarded-For:
    # it must not pick the client address (limits, failure gate) nor reach the upstream.
    doc = echo(trusted_gw.request("GET", "/api/xff", headers=[
        ("X-Forwarded-For", "203.0.113.5"), ("X_Forwarded_For", "198.51.100.7"), ("X_Forwarded_Host", "evil.example"),
        ("X_Real_IP", "198.51.100.8")]))
    values = hdr(doc["headers"], "X-Forwarded-For")
    assert [p.strip() for p in values[0].split(",")] == ["203.0.113.5", "127.0.0.1"], values
    folded = {n.lower().replace("_", "-") for n, _ in doc["headers"] if "_" in n}
    assert folded == set(), folded


def test_x_forwarded_for_trusted_proxy_without_header(trusted_gw, up):
    doc = echo(trusted_gw.request("GET", "/api/xff"))
    assert hdr(doc["headers"], "X-Forwarded-For") == ["127.0.0.1"]


def test_x_forwarded_proto_and_host(gw, up):
    doc = echo(gw.request("GET", "/api/xfp", host="public.example:8443", headers=[
        ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil.example")]))
    assert hdr(doc["headers"], "X-Forwarded-Proto") == ["https" if TLS_MODE else "http"]
    assert hdr(doc["headers"], "X-Forwarded-Host") == ["public.example:8443"]


def test_x_forwarded_host_from_trusted_proxy_is_kept(trusted_gw, up):
    doc = echo(trusted_gw.request("GET", "/api/xfh", host="internal:1",
                                  headers=[("X-Forwarded-Host", "public.example")]))
    assert hdr(doc["headers"], "X-Forwarded-Host") == ["public.example"]


def test_request_id_generated_for_untrusted_peer(gw, up):
    a = echo(gw.request("GET", "/api/rid", headers=[("X-Request-Id", "forged-id")]))
    b = echo(gw.request("GET", "/api/rid"))
    ra, rb = hdr(a["headers"], "X-Request-Id"), hdr(b["headers"], "X-Request-Id")
    assert len(ra) == 1 and len(rb) == 1
    assert ra[0] != "forged-id" and ra[0] and rb[0] and ra[0] != rb[0]


def test_request_id_with_underscores_is_not_forwarded(gw, up):
    # A CGI/WSGI upstream reads X_Request_Id and X-Request-Id as one variable.
    doc = echo(gw.request("GET", "/api/rid", headers=[("X_Request_Id", "forged-id"), ("x-request_id", "forged-2")]))
    assert [v for n, v in doc["headers"] if n.lower().replace("_", "-") == "x-request-id"] == hdr(doc["headers"], "X-Request-Id")
    assert "forged-id" not in hdr(doc["headers"], "X-Request-Id") and "forged-2" not in hdr(doc["headers"], "X-Request-Id")


def test_request_id_kept_from_trusted_proxy(trusted_gw, up):
    doc = echo(trusted_gw.request("GET", "/api/rid", headers=[("X-Request-Id", "trace-abc-123")]))
    assert hdr(doc["headers"], "X-Request-Id") == ["trace-abc-123"]


def test_keep_alive_client_connection(gw, up):
    with gw.connect() as c:
        for i in range(5):
            doc = echo(c.request("GET", f"/api/ka?i={i}"))
            assert doc["query"] == f"i={i}"
        assert c.request("GET", "/healthz").body == b"ok"


def test_upstream_connections_are_reused(gw, up):
    for i in range(6):
        echo(gw.request("GET", f"/api/pool?i={i}"))
    assert up.connections <= 2, f"{up.connections} upstream connections for 6 sequential requests"


def test_keepalive_zero_opens_a_connection_per_request(gateways):
    up = Upstream("ka0").start()
    try:
        gw = gateways.start(upstream_block("u", up.port, extra="    keepalive 0;\n") + "route /api/** { public; upstream u; }\n")
        for i in range(4):
            echo(gw.request("GET", f"/api/k0?i={i}"))
        assert up.connections == 4
    finally:
        up.stop()


def test_idle_upstream_connections_shrink_to_keepalive_after_a_burst(gateways):
    # A burst needs more upstream connections than `keepalive`: once it is over, the pool
    # holds at most `keepalive` of them (the rest are closed, not left idle), and the next
    # request reuses one of those kept.
    up = Upstream("burst")
    up.conn_timeout = 10
    up.start()
    try:
        gw = gateways.start(upstream_block("u", up.port, extra="    keepalive 2;\n") + "route /api/** { public; upstream u; }\n",
                            workers=1)
        statuses = []
        threads = [threading.Thread(target=lambda: statuses.append(gw.request("GET", "/api/slow?ms=300").status))
                   for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert statuses == [200] * 12
        assert up.connections >= 3

        def open_upstream_connections() -> int:
            with up.lock:
                return len(up._clients)
        wait_until(lambda: open_upstream_connections() <= 2, 5, message="idle upstream connections <= keepalive")
        opened = up.connections
        echo(gw.request("GET", "/api/after"))
        assert up.connections == opened
    finally:
        up.stop()


def test_pipelined_requests_answer_in_order(gw, up):
    with gw.connect() as c:
        c.send(build_request("GET", "/api/slow?ms=300")
               + build_request("POST", "/api/second", body=b"two")
               + build_request("GET", "/healthz")
               + build_request("GET", "/api/fourth?x=4"))
        assert echo(c.read_response())["target"] == "/api/slow?ms=300"
        second = echo(c.read_response())
        assert second["path"] == "/api/second" and second["body"] == "two"
        assert c.read_response().body == b"ok"
        assert echo(c.read_response())["query"] == "x=4"


def test_expect_100_continue(gw, up):
    with gw.connect() as c:
        c.send(build_request("POST", "/api/expect", [("Expect", "100-continue"), ("Content-Length", "11")]))
        interim = c.read_response(allow_interim=True)
        assert interim.status == 100, interim
        c.send(b"hello world")
        final = c.read_response()
        while final.status == 100:  # tolerate a second interim response
            final = c.read_response()
        doc = echo(final)
        assert doc["body"] == "hello world"
        assert echo(c.request("GET", "/api/after-expect"))["path"] == "/api/after-expect"


def test_http10_client(gw, up):
    with gw.connect() as c:
        c.send(b"GET /api/chunked HTTP/1.0\r\n\r\n")
        r = c.read_response()
        assert r.status == 200
        assert (r.header("Transfer-Encoding") or "") == "", "no chunked encoding towards an HTTP/1.0 client"
        assert r.body == b"hello chunked world"
        assert c.wait_closed(3), "HTTP/1.0 without keep-alive: the gateway closes"


def test_http10_client_echo(gw, up):
    with gw.connect() as c:
        c.send(b"POST /api/ten HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc")
        doc = echo(c.read_response())
        assert doc["body"] == "abc"


def test_http10_keep_alive_is_announced_on_every_answer(gw, up):
    # An HTTP/1.0 client keeps a connection only when told `Connection: keep-alive` (RFC 9112
    # §9.3): forwarded responses and the gateway's own answers (respond routes, errors) alike.
    with gw.connect() as c:
        for path, status in (("/api/x", 200), ("/healthz", 200), ("/nowhere", 404), ("/api/again", 200)):
            c.send(f"GET {path} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode())
            r = c.read_response()
            assert r.status == status, (path, r)
            assert (r.header("Connection") or "").lower() == "keep-alive", (path, r.headers)


def test_chunked_request_body(gw, up):
    with gw.connect() as c:
        c.send(build_request("POST", "/api/chunk-up", [("Transfer-Encoding", "chunked")])
               + chunked(b"hello ", b"chunked ", b"x" * 5000, b" end"))
        doc = echo(c.read_response())
        assert doc["body"] == "hello chunked " + "x" * 5000 + " end"
        assert doc["body_len"] == 14 + 5000 + 4
        # the connection is still usable afterwards
        assert c.request("GET", "/healthz").body == b"ok"


def test_chunked_request_body_sent_slowly(gw, up):
    with gw.connect() as c:
        c.send(build_request("POST", "/api/chunk-slow", [("Transfer-Encoding", "chunked")]))
        for piece in (b"a" * 10, b"b" * 20, b"c" * 30):
            time.sleep(0.1)
            c.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        c.send(b"0\r\n\r\n")
        assert echo(c.read_response())["body"] == "a" * 10 + "b" * 20 + "c" * 30


def test_chunked_response(gw, up):
    with gw.connect() as c:
        r = c.request("GET", "/api/chunked")
        assert r.status == 200 and r.body == b"hello chunked world"
        assert c.request("GET", "/healthz").body == b"ok"


def test_head_request_has_no_body(gw, up):
    with gw.connect() as c:
        r = c.request("HEAD", "/api/echo-head")
        assert r.status == 200
        # the next response on the same connection must parse cleanly
        assert c.request("GET", "/healthz").body == b"ok"


def test_large_headers_within_limits_pass(gw, up):
    many = [(f"X-H{i}", "v" * 50) for i in range(40)]
    doc = echo(gw.request("GET", "/api/many", headers=many))
    for i in range(40):
        assert hdr(doc["headers"], f"X-H{i}") == ["v" * 50]


def test_header_order_and_duplicates_preserved(gw, up):
    doc = echo(gw.request("GET", "/api/dups", headers=[("X-Multi", "a"), ("X-Other", "o"), ("X-Multi", "b")]))
    multi = hdr(doc["headers"], "X-Multi")
    assert multi in (["a", "b"], ["a, b"]), multi


def test_connection_close_from_client(gw, up):
    with Conn(gw.port) as c:
        r = c.request("GET", "/api/bye", headers=[("Connection", "close")])
        assert r.status == 200
        assert c.wait_closed(3)


def test_hop_by_hop_response_headers_are_removed(gw, up):
    with gw.connect() as c:
        r = c.request("GET", "/api/hop-response")
        assert r.status == 200 and r.body == b"hop"
        assert r.header("X-Hop-Secret") is None, r.headers
        assert r.header("Keep-Alive") is None or "timeout=1" not in r.header("Keep-Alive"), r.headers
        assert r.header("X-End-To-End") == "2"
        assert c.request("GET", "/healthz").body == b"ok"


def test_request_with_plain_trailer_passes(gw, up):
    with gw.connect() as c:
        c.send(build_request("POST", "/api/trailers", [("Transfer-Encoding", "chunked"), ("Trailer", "X-Checksum")])
               + chunked(b"abc", trailers="X-Checksum: 123\r\n"))
        doc = echo(c.read_response())
    assert doc["body"] == "abc"
    assert hdr(doc["trailers"], "X-Checksum") in ([], ["123"])


@pytest.mark.parametrize("trailer", ["X-Auth-User-Id: admin", "x-auth-roles: admin", "X_Auth_Roles: admin",
                                     "Content-Length: 99", "Transfer-Encoding: gzip", "Connection: close",
                                     "Host: evil.example"])
def test_request_trailers_never_carry_identity_or_framing(gw, up, trailer):
    """SPEC §8: such trailers are not forwarded; the request goes through."""
    with gw.connect() as c:
        c.send(build_request("POST", "/api/trailers", [("Transfer-Encoding", "chunked")])
               + chunked(b"abc", trailers=trailer + "\r\n"))
        r = c.read_response()
    assert r.status == 200, r
    doc = r.json()
    assert doc["body"] == "abc"
    name = trailer.split(":")[0].lower().replace("_", "-")
    assert [n for n, _ in doc["trailers"] if n.lower().replace("_", "-") == name] == [], doc["trailers"]
    bad = [n for n, _ in doc["headers"] + doc["trailers"] if n.lower().replace("_", "-").startswith("x-auth-")]
    assert bad == []


def test_many_concurrent_keep_alive_clients(gw, up):
    errors = []

    def client(i: int) -> None:
        try:
            with Conn(gw.port, timeout=10) as c:
                for j in range(3):
                    assert echo(c.request("GET", f"/api/cc?i={i}&j={j}"))["query"] == f"i={i}&j={j}"
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{i}: {exc!r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors[:5]
