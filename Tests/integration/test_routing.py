"""SPEC §4: path normalization, route matching, 404/405/403, respond routes, strip_prefix."""

import pytest

from conftest import assert_error, echo, upstream_block


@pytest.fixture(scope="module")
def gw(module_gateways, module_upstream):
    body = upstream_block("u", module_upstream.port) + """
route /api/** { public; upstream u; }
route /files/*/raw { public; upstream u; }
route /strip/** { public; strip_prefix /strip; upstream u; }
route /denied/** { deny; }
route /healthz { public; respond 200 "ok"; }
route /only-get { public; methods GET; respond 200 "got"; }
# most specific wins, whatever the order in the file
route /s/** { public; respond 200 "glob"; }
route /s/{id} { public; respond 200 "param"; }
route /s/literal { public; respond 200 "literal"; }
route /s/{id}/x { public; respond 200 "param-x"; }
route /s/literal/** { public; respond 200 "literal-glob"; }
route /m { public; respond 200 "any"; }
route /m { public; methods POST; respond 200 "post"; }
"""
    return module_gateways.new("routing").start(body)


@pytest.fixture
def up(module_upstream):
    module_upstream.reset()
    return module_upstream


def test_respond_route(gw, up):
    r = gw.request("GET", "/healthz")
    assert r.status == 200 and r.body == b"ok"
    assert up.requests == []


def test_proxied_route_reaches_upstream(gw, up):
    doc = echo(gw.request("GET", "/api/v1/things?a=1"))
    assert doc["method"] == "GET"
    assert doc["target"] == "/api/v1/things?a=1"


def test_route_not_found(gw, up):
    assert_error(gw.request("GET", "/nothing/here"), 404, "route_not_found")
    assert_error(gw.request("GET", "/"), 404, "route_not_found")
    assert up.requests == [], "nothing may be forwarded for an unmatched route"


def test_matching_is_case_sensitive(gw, up):
    assert_error(gw.request("GET", "/API/x"), 404, "route_not_found")
    assert_error(gw.request("GET", "/HEALTHZ"), 404, "route_not_found")


def test_method_not_allowed_with_allow(gw, up):
    r = gw.request("DELETE", "/only-get")
    assert_error(r, 405, "method_not_allowed")
    allow = [m.strip().upper() for v in r.header_all("Allow") for m in v.split(",")]
    assert "GET" in allow and "DELETE" not in allow, r.headers
    assert gw.request("GET", "/only-get").body == b"got"


def test_deny_route(gw, up):
    assert_error(gw.request("GET", "/denied/secret"), 403, "access_denied")
    assert_error(gw.request("POST", "/denied/x", body=b"hi"), 403, "access_denied")
    assert up.requests == []


@pytest.mark.parametrize("path,expected", [
    ("/s/literal", b"literal"),
    ("/s/other", b"param"),
    ("/s/other/x", b"param-x"),
    ("/s/other/y", b"glob"),
    ("/s/a/b/c", b"glob"),
    ("/s/literal/x", b"literal-glob"),
    ("/s/literal/a/b", b"literal-glob"),
    ("/s", b"glob"),  # trailing ** matches zero segments
])
def test_most_specific_route_wins(gw, path, expected):
    r = gw.request("GET", path)
    assert r.status == 200 and r.body == expected, (path, r)


def test_route_with_methods_beats_same_pattern_without(gw):
    assert gw.request("POST", "/m", body=b"x").body == b"post"
    assert gw.request("GET", "/m").body == b"any"
    assert gw.request("DELETE", "/m").body == b"any"


def test_single_segment_wildcard(gw, up):
    doc = echo(gw.request("GET", "/files/abc/raw"))
    assert doc["path"] == "/files/abc/raw"
    assert_error(gw.request("GET", "/files/a/b/raw"), 404, "route_not_found")
    assert_error(gw.request("GET", "/files/abc/raw/more"), 404, "route_not_found")


def test_strip_prefix(gw, up):
    doc = echo(gw.request("GET", "/strip/a/b?q=1"))
    assert doc["target"] == "/a/b?q=1"


@pytest.mark.parametrize("sent,expected", [
    ("/api/./a/../b//c", "/api/b/c"),
    ("/api//x///y", "/api/x/y"),
    ("/api/x/./y/.", ("/api/x/y/", "/api/x/y")),  # RFC 3986 keeps the trailing slash
    ("/api/x/y/", "/api/x/y/"),
    ("/api/a/b/../../c", "/api/c"),
    ("/api/%61%62%63", "/api/abc"),  # unreserved characters are decoded
    ("/api/%7Euser/%2D%2E%5F", "/api/~user/-._"),
    ("/api/%2e%2e/api/x", "/api/x"),  # encoded dots are dots, then resolved
    ("/api/a%20b", "/api/a%20b"),  # reserved / other encodings are kept
])
def test_normalized_path_is_forwarded(gw, up, sent, expected):
    doc = echo(gw.request("GET", sent))
    allowed = expected if isinstance(expected, tuple) else (expected,)
    assert doc["path"] in allowed, (sent, doc["target"])


def test_original_query_is_forwarded_verbatim(gw, up):
    q = "x=%2F&y=a+b&z=%zz&w=..%2F&&v"
    doc = echo(gw.request("GET", "/api//q/../r?" + q))
    assert doc["target"] == "/api/r?" + q


def test_routing_uses_the_normalized_path(gw, up):
    # escapes a deny route by dot segments: the normalized path is what is matched
    doc = echo(gw.request("GET", "/denied/../api/x"))
    assert doc["path"] == "/api/x"
    assert_error(gw.request("GET", "/api/../denied/x"), 403, "access_denied")
    assert_error(gw.request("GET", "/api/%2e%2e/denied/x"), 403, "access_denied")
    assert_error(gw.request("GET", "//denied//x"), 403, "access_denied")
    assert gw.request("GET", "/api/../healthz").body == b"ok"


@pytest.mark.parametrize("path", [
    "/api/a%2Fb",
    "/api/a%2fb",
    "/api/a\\b",
    "/api/a%5Cb",
    "/api/a%5cb",
    "/api/a%00b",
    "/api/a%01b",
    "/api/a%0Ab",
    "/api/a%0d%0aX-Injected:%20yes",
    "/api/a%1Fb",
    "/api/a%7Fb",
    "/api/a%zzb",
    "/api/a%4",
    "/api/a%",
    "/api/%%30",
    "/..",
    "/../api/x",
    "/api/../../x",
    "/api/%2e%2e/%2e%2e/x",
    "/api/%2E%2E/%2E%2E/etc/passwd",
])
def test_bad_paths_are_rejected_before_routing(gw, up, path):
    assert_error(gw.request("GET", path), 400, "invalid_request")
    assert up.requests == [], f"{path!r} reached the upstream"


def test_bad_path_on_unrouted_prefix_is_400_not_404(gw, up):
    assert_error(gw.request("GET", "/nowhere/a%2Fb"), 400, "invalid_request")
    assert_error(gw.request("GET", "/denied/a%00"), 400, "invalid_request")


def test_error_request_ids_differ(gw):
    a = assert_error(gw.request("GET", "/nothing"), 404, "route_not_found")
    b = assert_error(gw.request("GET", "/nothing"), 404, "route_not_found")
    assert a["request_id"] != b["request_id"]


def test_head_errors_have_no_body(gw, up):
    """RFC 9110 §9.3.2: a gateway error answering HEAD carries the head only, so the next
    response on the keep-alive connection is framed correctly."""
    with gw.connect() as conn:
        conn.send(b"HEAD /nope HTTP/1.1\r\nHost: gateway.test\r\n\r\nGET /healthz HTTP/1.1\r\nHost: gateway.test\r\n\r\n")
        first = conn.read_response("HEAD")
        assert first.status == 404 and first.body == b"" and int(first.header("Content-Length")) > 0
        second = conn.read_response("GET")
        assert second.status == 200 and second.body == b"ok"
        conn.send(b"HEAD /denied/x HTTP/1.1\r\nHost: gateway.test\r\n\r\n")
        third = conn.read_response("HEAD")
        assert third.status == 403 and third.body == b""
