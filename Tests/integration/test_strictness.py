"""SPEC §14 HTTP/1.1 strictness: each malformed request is sent as raw bytes and must get a
400 and a closed connection, and the upstream must receive nothing."""

import time

import pytest

from conftest import Conn, assert_error, fd_count, send_raw, upstream_block, wait_until


@pytest.fixture(scope="module")
def gw(module_gateways, module_upstream):
    body = upstream_block("u", module_upstream.port) + "route /api/** { public; upstream u; }\n"
    return module_gateways.new("strict").start(body)


@pytest.fixture
def up(module_upstream):
    module_upstream.reset()
    return module_upstream


SMUGGLED = b"GET /api/smuggled HTTP/1.1\r\nHost: a\r\n\r\n"

# Rejected from the head alone: nothing at all may reach the upstream.
HEAD_CASES = {
    "cl_and_te": b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te_and_cl_smuggle": (b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 44\r\n\r\n"
                          b"0\r\n\r\n" + SMUGGLED),
    "duplicate_cl_differing": b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
    "cl_list_differing": b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 5\r\n\r\nabcde",
    "cl_not_a_number": b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
    "cl_negative": b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    "cl_plus_sign": b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc",
    "cl_hex": b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc",
    "te_gzip": b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc",
    "te_chunked_chunked": b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
    "te_chunked_twice_in_two_fields": (b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                                       b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    "te_identity": b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\nabc",
    "te_chunked_not_final": b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    "te_unknown": b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "te_empty": b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n",
    "obs_fold": b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-Folded: first\r\n second\r\n\r\n",
    "obs_fold_tab": b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-Folded: first\r\n\tsecond\r\n\r\n",
    "space_before_colon": b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-Foo : bar\r\n\r\n",
    "space_before_colon_te": (b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n"
                              b"0\r\n\r\n"),
    "tab_before_colon": b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-Foo\t: bar\r\n\r\n",
    "space_in_header_name": b"GET /api/x HTTP/1.1\r\nHost: a\r\nX Foo: bar\r\n\r\n",
    "bad_byte_in_header_name": b"GET /api/x HTTP/1.1\r\nHost: a\r\nX(Foo): bar\r\n\r\n",
    "empty_header_name": b"GET /api/x HTTP/1.1\r\nHost: a\r\n: bar\r\n\r\n",
    "leading_whitespace_first_header": b"GET /api/x HTTP/1.1\r\n Host: a\r\n\r\n",
    "nul_in_header_value": b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-Foo: a\x00b\r\n\r\n",
    "ctl_in_header_value": b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-Foo: a\x01b\r\n\r\n",
    "del_in_header_value": b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-Foo: a\x7fb\r\n\r\n",
    "bare_cr_in_header_value": b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-Foo: a\rb\r\n\r\n",
    "nul_in_header_name": b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-F\x00oo: b\r\n\r\n",
    "missing_host": b"GET /api/x HTTP/1.1\r\nX-Foo: bar\r\n\r\n",
    "duplicate_host": b"GET /api/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "duplicate_host_same_value": b"GET /api/x HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
    "host_list": b"GET /api/x HTTP/1.1\r\nHost: a, b\r\n\r\n",
    "bad_version_lowercase": b"GET /api/x http/1.1\r\nHost: a\r\n\r\n",
    "bad_version_garbage": b"GET /api/x HTTP/1.x\r\nHost: a\r\n\r\n",
    "bad_version_no_dot": b"GET /api/x HTTP/11\r\nHost: a\r\n\r\n",
    "bad_version_protocol": b"GET /api/x HTTX/1.1\r\nHost: a\r\n\r\n",
    "missing_version": b"GET /api/x\r\nHost: a\r\n\r\n",
    "asterisk_form": b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "absolute_form_other_host": b"GET http://evil.example/api/x HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    "authority_form": b"CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n",
    "connect_origin_form": b"CONNECT /tunnel HTTP/1.1\r\nHost: gw\r\n\r\n",
    "space_in_target": b"GET /api/a b HTTP/1.1\r\nHost: a\r\n\r\n",
    "ctl_in_target": b"GET /api/a\x01b HTTP/1.1\r\nHost: a\r\n\r\n",
    "relative_target": b"GET api/x HTTP/1.1\r\nHost: a\r\n\r\n",
    "bad_method_token": b"G(T /api/x HTTP/1.1\r\nHost: a\r\n\r\n",
}

# Rejected while reading a chunked body: the head may have been seen, but the upstream must
# never get a complete request.
CHUNK_CASES = {
    "chunk_size_not_hex": b"zz\r\nhello\r\n0\r\n\r\n",
    "chunk_size_negative": b"-5\r\nhello\r\n0\r\n\r\n",
    "chunk_size_0x_prefix": b"0x5\r\nhello\r\n0\r\n\r\n",
    "chunk_size_overflow": b"10000000000000005\r\nhello\r\n0\r\n\r\n",
    "chunk_size_huge": b"fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
    "chunk_size_empty": b"\r\nhello\r\n0\r\n\r\n",
    "chunk_size_plus": b"+5\r\nhello\r\n0\r\n\r\n",
    "chunk_ext_empty_name": b"5;\r\nhello\r\n0\r\n\r\n",
    "chunk_ext_bad_name": b"5;a(b)=c\r\nhello\r\n0\r\n\r\n",
    "chunk_ext_unterminated_quote": b"5;a=\"xyz\r\nhello\r\n0\r\n\r\n",
    "chunk_ext_ctl": b"5;a=b\x01\r\nhello\r\n0\r\n\r\n",
    "chunk_data_too_long": b"5\r\nhelloEXTRA\r\n0\r\n\r\n",
    "chunk_missing_crlf_after_data": b"5\r\nhello0\r\n\r\n",
    "chunk_size_bare_lf_then_garbage": b"5\nhello\r\nzz\r\n\r\n",
}


def check_rejected(gw, up, raw: bytes, *, head_level: bool) -> None:
    resp, closed, _ = send_raw(gw.port, raw)
    assert resp is not None, "expected a 400 response, the connection was closed without one"
    assert resp.status == 400, f"expected 400, got {resp!r}"
    if resp.body:
        assert_error(resp, 400, "invalid_request")
    assert closed, "the connection must be closed after a framing error"
    time.sleep(0.2)  # let anything that was (wrongly) forwarded arrive
    if head_level:
        assert up.bytes_received == 0, f"the upstream received {up.bytes_received} bytes"
    complete = [r for r in up.requests if "error" not in r]
    assert complete == [], f"the upstream received a request: {complete}"
    # the gateway still serves correct requests
    ok = gw.request("GET", "/api/after")
    assert ok.status == 200, ok


@pytest.mark.parametrize("name", sorted(HEAD_CASES))
def test_rejected_head(gw, up, name):
    check_rejected(gw, up, HEAD_CASES[name], head_level=True)


@pytest.mark.parametrize("name", sorted(CHUNK_CASES))
def test_rejected_chunked_body(gw, up, name):
    raw = b"POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + CHUNK_CASES[name]
    check_rejected(gw, up, raw, head_level=False)


def test_bad_version_http2(gw, up):
    resp, closed, _ = send_raw(gw.port, b"GET /api/x HTTP/2.0\r\nHost: a\r\n\r\n")
    assert resp is not None and resp.status in (400, 505), resp
    assert closed
    time.sleep(0.2)
    assert up.bytes_received == 0


def test_h2_preface_rejected(gw, up):
    resp, closed, _ = send_raw(gw.port, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    assert resp is None or resp.status in (400, 505), resp
    assert closed
    time.sleep(0.2)
    assert up.bytes_received == 0


def test_rejection_after_a_good_request_on_keep_alive(gw, up):
    with Conn(gw.port) as c:
        assert c.request("GET", "/api/first").status == 200
        c.send(HEAD_CASES["cl_and_te"])
        r = c.read_response()
        assert r.status == 400
        assert c.wait_closed(3)
    time.sleep(0.2)
    assert len(up.requests) == 1


def test_pipelined_smuggle_attempt_is_not_forwarded(gw, up):
    raw = (b"POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nContent-Length: 44\r\n\r\n"
           + b"0\r\n\r\n" + SMUGGLED)
    check_rejected(gw, up, raw, head_level=True)


def test_valid_edge_cases_are_accepted(gw, up):
    """Things RFC 9112 allows must not be rejected."""
    with Conn(gw.port) as c:
        # identical duplicate Content-Length is not "differing"; tolerated or rejected, but
        # never misframed: check only the safe ones here
        r = c.request("POST", "/api/ok", [("Transfer-Encoding", "Chunked")], host="a", read=False)
        c.send(b"3;name=value;q=\"quoted\"\r\nabc\r\n0\r\nX-Trailer-Ok: 1\r\n\r\n")
        r = c.read_response()
        assert r.status == 200 and r.json()["body"] == "abc"
        c.send(b"GET /api/ok2 HTTP/1.1\r\nhOsT: a\r\nX-Tab:\tv\t\r\nX-Empty:\r\n\r\n")
        r = c.read_response()
        assert r.status == 200
        doc = r.json()
        assert ["X-Tab", "v"] in doc["headers"]


def _held_connections(gw, request: bytes, count: int) -> list[Conn]:
    """`count` clients that sent `request`, read the answer to the gateway's close, and stay open."""
    held = []
    for _ in range(count):
        c = gw.connect(timeout=5)
        c.send(request)
        assert c.read_response().status in (200, 404), request
        held.append(c)
    return held


def test_close_after_a_complete_request_does_not_linger(gw, up):
    """`Connection: close` / HTTP/1.0 with the request read in full: the gateway closes its
    descriptor at once (as nginx's `lingering_close on`), it does not hold it for the client."""
    time.sleep(0.3)
    baseline = fd_count(gw.pid)
    held = _held_connections(gw, b"GET /api/a HTTP/1.0\r\nHost: a\r\n\r\n", 5)
    held += _held_connections(gw, b"GET /api/b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 5)
    try:
        for c in held:
            assert c.wait_closed(2.0)
        wait_until(lambda: fd_count(gw.pid) <= baseline + 2, 1.0, interval=0.02, message="descriptors closed at once")
    finally:
        for c in held:
            c.close()


def test_close_with_a_body_still_coming_lingers(gw, up):
    """A request refused before its body arrived: the gateway half-closes and keeps reading
    for a moment, so the client reads the answer rather than a reset from unread bytes."""
    time.sleep(0.3)
    baseline = fd_count(gw.pid)
    request = b"POST /nowhere HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100
    held = _held_connections(gw, request, 3)
    try:
        for c in held:
            assert c.wait_closed(2.0)
        assert fd_count(gw.pid) >= baseline + 3, (baseline, fd_count(gw.pid))
        for c in held:
            c.send(b"y" * 1000)   # still read and discarded: no reset for the client
    finally:
        for c in held:
            c.close()
