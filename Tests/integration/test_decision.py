"""SPEC §9 decision endpoint, asked directly (as nginx `auth_request` and Traefik/Caddy
forward auth would): trusted and untrusted peers, both header forms, the pipeline's answers,
and nothing ever forwarded."""

import json
import time

import pytest

jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from conftest import assert_error, upstream_block, wait_until  # noqa: E402

SECRET = "decision-secret-0123456789abcdef0123"
ISS, AUD = "https://idp.test", "agent-api"
AUTH = "/_gateway/auth"

ROUTES = """
route /public/** { public; upstream u; }
route /api/** { upstream u; }
route /api/admin/** { require admin:write; upstream u; }
route /api/events/** { allow_query_token on; upstream u; }
route /api/signed/** { identity_token on; upstream u; }
route /api/only-post { methods POST; upstream u; }
route /local { respond 200 "local"; }
route /internal/** { deny; }
"""


def jwt_block() -> str:
    return (f"jwt {{\n    issuer {ISS};\n    audience {AUD};\n    key hs HS256 env:TEST_JWT_SECRET;\n"
            "    claims permissions=permissions,scope;\n}\n")


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory):
    path = tmp_path_factory.mktemp("decide") / "es.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def config(upstream_port: int, signing_key, trust: str, extra: str = "") -> str:
    return (f"trust_proxies {trust};\n" + extra + upstream_block("u", upstream_port) + jwt_block()
            + f"tokens {{\n    signing_key es-1 ES256 file:{signing_key};\n    issuer https://gw.test;\n"
              f"    audience internal;\n}}\n" + ROUTES)


@pytest.fixture(scope="module")
def gw(module_gateways, module_upstream, signing_key):
    return module_gateways.new("decide").start(
        config(module_upstream.port, signing_key, "127.0.0.1/32"), env={"TEST_JWT_SECRET": SECRET},
        access_log="stdout")


@pytest.fixture(scope="module")
def untrusting_gw(module_gateways, module_upstream, signing_key):
    # 127.0.0.1 (every test client) is not a trusted proxy here.
    return module_gateways.new("decide-untrusted").start(
        config(module_upstream.port, signing_key, "10.0.0.0/8 ::1/128"), env={"TEST_JWT_SECRET": SECRET})


@pytest.fixture
def up(module_upstream):
    module_upstream.reset()
    yield module_upstream
    time.sleep(0.05)
    assert module_upstream.requests == [], "the decision endpoint forwarded a request"


def token(**over) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": "user-7", "iat": now, "exp": now + 600, "email": "u7@example.com",
              "scope": "memory:read", "jti": "tok-7"}
    claims.update(over)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET, algorithm="HS256")


def bearer(tok: str | None = None) -> list:
    return [("Authorization", "Bearer " + (tok or token()))]


def nginx(uri: str, method: str = "GET") -> list:
    return [("X-Original-URI", uri), ("X-Original-Method", method)]


def forwarded(uri: str, method: str = "GET", host: str = "api.example") -> list:
    return [("X-Forwarded-Method", method), ("X-Forwarded-Uri", uri), ("X-Forwarded-Host", host),
            ("X-Forwarded-Proto", "https")]


def decide(g, headers, method: str = "GET", path: str = AUTH):
    return g.request(method, path, headers=headers)


def assert_allowed(r, user: str | None = "user-7"):
    assert r.status == 200, r
    assert r.body == b""
    assert r.header("Content-Length") == "0"
    assert r.header("X-Request-Id")
    assert r.header("X-Auth-User-Id") == user
    assert r.header("Cache-Control") == "no-store"


def test_allow_nginx_form_carries_identity(gw, up):
    r = decide(gw, bearer() + nginx("/api/v1/things?x=1", "POST") + [("X-Auth-User-Id", "mallory")])
    assert_allowed(r)
    assert r.header("X-Auth-Email") == "u7@example.com"
    assert r.header("X-Auth-Permissions") == "memory:read"
    assert r.header("X-Auth-Method") == "jwt"
    assert r.header("X-Auth-Token-Id") == "tok-7"
    assert r.header_all("X-Auth-User-Id") == ["user-7"], "a client's X-Auth-* never comes back"
    assert r.header("X-Auth-Error") is None


def test_allow_forwarded_form(gw, up):
    assert_allowed(decide(gw, bearer() + forwarded("/api/v1/things", "DELETE")))


def test_public_and_respond_routes_allow(gw, up):
    r = decide(gw, nginx("/public/page"))
    assert_allowed(r, user=None)
    assert_allowed(decide(gw, bearer() + nginx("/local")))


def test_missing_credential_is_401_with_challenge(gw, up):
    r = decide(gw, nginx("/api/x"))
    assert_error(r, 401, "unauthorized")
    assert r.header("WWW-Authenticate") == 'Bearer realm="gateway"'
    assert r.header("X-Auth-Error") == "unauthorized"
    assert r.header("X-Auth-User-Id") is None


@pytest.mark.parametrize("bad", ["garbage", "expired", "wrong-secret"])
def test_invalid_credential_is_401(gw, up, bad):
    tok = {"garbage": "a.b.c", "expired": token(exp=int(time.time()) - 3600),
           "wrong-secret": jwt.encode({"iss": ISS, "aud": AUD, "sub": "x", "exp": int(time.time()) + 60},
                                      "another-secret-0123456789abcdef0123", algorithm="HS256")}[bad]
    r = decide(gw, bearer(tok) + forwarded("/api/x"))
    assert_error(r, 401, "invalid_token")
    assert r.header("WWW-Authenticate") == 'Bearer realm="gateway", error="invalid_token"'


def test_missing_permission_is_403_insufficient_scope(gw, up):
    r = decide(gw, bearer() + nginx("/api/admin/users"))
    assert_error(r, 403, "insufficient_scope")
    assert 'error="insufficient_scope"' in r.header("WWW-Authenticate")
    assert r.header("X-Auth-Error") == "insufficient_scope"
    assert_allowed(decide(gw, bearer(token(scope="admin:write")) + nginx("/api/admin/users")))


def test_deny_route_is_403(gw, up):
    r = decide(gw, bearer() + nginx("/internal/secrets"))
    assert_error(r, 403, "access_denied")
    assert r.header("X-Auth-Error") == "access_denied"


def test_original_path_is_normalized_before_matching(gw, up):
    assert_allowed(decide(gw, bearer() + nginx("//api//v1/%78")))
    assert_error(decide(gw, nginx("//api/x")), 401, "unauthorized")


@pytest.mark.parametrize("uri", ["/internal/secrets/../../public/x", "/internal/secrets/%2e%2e/%2E%2e/public/x",
                                 "/public/./x", "/public/x/..", "/public/.%2e/api/x"])
def test_a_described_dot_segment_is_refused(gw, up, uri):
    # The proxy forwards the path as written: an upstream that does not resolve dot segments
    # would serve /internal/secrets/... although the routes decided on /public/x.
    r = decide(gw, bearer() + nginx(uri))
    assert_error(r, 400, "invalid_request")
    assert r.header("X-Auth-Error") == "invalid_request"
    r = decide(gw, bearer() + forwarded(uri))
    assert_error(r, 400, "invalid_request")


@pytest.mark.parametrize("uri", ["/api/a%2Fb", "/../etc/passwd", "/api/%00", "/api\\x", "/api/%zz", "*", "api/x",
                                 "/x#frag"])
def test_bad_original_uri_is_400(gw, up, uri):
    with gw.connect() as c:
        assert_error(c.request("GET", AUTH, bearer() + nginx(uri)), 400, "invalid_request")
        # A bad description is no framing error: the connection carries on.
        assert_allowed(c.request("GET", AUTH, bearer() + nginx("/api/x")))


def test_absolute_form_original_uri(gw, up):
    assert_allowed(decide(gw, bearer() + nginx("http://api.example/api/x?y=1")))


def test_route_lookup_uses_original_method(gw, up):
    assert_error(decide(gw, nginx("/nowhere")), 404, "route_not_found")
    r = decide(gw, bearer() + nginx("/api/only-post", "GET"))
    assert_error(r, 405, "method_not_allowed")
    assert r.header("Allow") == "POST"
    assert_allowed(decide(gw, bearer() + nginx("/api/only-post", "POST")))


def test_query_token_from_original_uri(gw, up):
    tok = token()
    assert_allowed(decide(gw, nginx(f"/api/events/stream?access_token={tok}")))
    # Only routes with allow_query_token read it.
    assert_error(decide(gw, nginx(f"/api/x?access_token={tok}")), 401, "unauthorized")
    # The decision endpoint's own query is not the original request's.
    assert_error(decide(gw, nginx("/api/events/stream"), path=f"{AUTH}?access_token={tok}"), 401, "unauthorized")
    assert_error(decide(gw, nginx("/api/events/stream?access_token=bad")), 401, "invalid_token")


def test_identity_token_route(gw, up):
    r = decide(gw, bearer() + nginx("/api/signed/x"))
    assert_allowed(r)
    assert r.header("X-Auth-Identity") and r.header("X-Auth-Identity").count(".") == 2


@pytest.mark.parametrize("headers,reason", [
    ([], "no original"),
    ([("X-Original-Method", "GET")], "no uri"),
    ([("X-Original-URI", "/public/x")], "no method"),
    ([("X-Forwarded-Host", "api.example")], "host only"),
    ([("X-Original-URI", "/public/x"), ("X-Original-URI", "/api/x"), ("X-Original-Method", "GET")], "uri twice"),
    (forwarded("/api/x") + nginx("/public/x"), "both forms"),
])
def test_missing_or_ambiguous_description_is_403(gw, up, headers, reason):
    r = decide(gw, headers)
    assert_error(r, 403, "access_denied")
    assert r.header("X-Auth-User-Id") is None


def test_untrusted_peer_never_allows(untrusting_gw, up):
    for headers in (bearer() + nginx("/api/x"), bearer() + forwarded("/api/x"), nginx("/public/x"), []):
        r = decide(untrusting_gw, headers)
        assert_error(r, 403, "access_denied")
        assert r.header("X-Auth-User-Id") is None


def test_endpoint_methods(gw, up):
    r = decide(gw, bearer() + nginx("/api/x"), method="HEAD")
    assert r.status == 200 and r.header("X-Auth-User-Id") == "user-7"
    r = decide(gw, bearer() + nginx("/api/x"), method="POST")
    assert_error(r, 405, "method_not_allowed")
    assert r.header("Allow") == "GET, HEAD"


def test_keep_alive_decisions_on_one_connection(gw, up):
    with gw.connect() as c:
        for i in range(5):
            r = c.request("GET", AUTH, bearer() + nginx(f"/api/item/{i}"))
            assert_allowed(r)
        assert_error(c.request("GET", AUTH, nginx("/api/x")), 401, "unauthorized")
        assert_allowed(c.request("GET", AUTH, bearer() + nginx("/api/again")))


def test_access_log_names_the_original_request(gw, up):
    decide(gw, bearer() + nginx("/api/logged//x", "PUT"))
    decide(gw, nginx("/api/logged-denied"))

    def lines():
        out = []
        for line in gw.stdout_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    allowed = wait_until(lambda: [e for e in lines() if e.get("path") == "/api/logged/x"], message="allow line")[0]
    assert allowed["method"] == "PUT" and allowed["decision"] == "allow" and allowed["status"] == 200
    assert allowed["route"] == "/api/**" and allowed["principal"] == "user-7"
    assert allowed["reason"] == "decision_endpoint"
    denied = wait_until(lambda: [e for e in lines() if e.get("path") == "/api/logged-denied"], message="deny line")[0]
    assert denied["decision"] == "deny" and denied["reason"] == "credential_missing" and denied["status"] == 401


def test_custom_path_and_off(gateways, module_upstream, signing_key):
    module_upstream.reset()
    custom = gateways.new("custom").start(
        config(module_upstream.port, signing_key, "127.0.0.1/32", "decision_endpoint /check;\n"),
        env={"TEST_JWT_SECRET": SECRET})
    assert_allowed(decide(custom, bearer() + nginx("/api/x"), path="/check"))
    assert_error(decide(custom, bearer() + nginx("/api/x")), 404, "route_not_found")
    off = gateways.new("off").start(
        config(module_upstream.port, signing_key, "127.0.0.1/32", "decision_endpoint off;\n"),
        env={"TEST_JWT_SECRET": SECRET})
    assert_error(decide(off, bearer() + nginx("/api/x")), 404, "route_not_found")
    assert module_upstream.requests == []


def test_rate_limit_answers_per_proxy_kind(gateways, module_upstream, signing_key):
    """Over a limit: 429 + Retry-After for Traefik/Caddy; for nginx (X-Original-URI) a 403 with
    X-Auth-Error: rate_limited and Retry-After, since nginx only understands 2xx/401/403."""
    g = gateways.new("decide-rl").start(
        config(module_upstream.port, signing_key, "127.0.0.1/32",
               extra="route /limited/** {\n    rate_limit 2/min;\n    upstream u;\n}\n"),
        env={"TEST_JWT_SECRET": SECRET})
    tok = token(sub="limited-user")
    for _ in range(2):
        r = decide(g, nginx("/limited/a") + bearer(tok))
        assert r.status == 200 and r.header("RateLimit-Policy") == '"route";q=2;w=60', r
    r = decide(g, nginx("/limited/a") + bearer(tok))
    assert r.status == 403 and r.header("X-Auth-Error") == "rate_limited", r
    assert int(r.header("Retry-After")) >= 1 and r.json()["error"] == "rate_limited"
    r = decide(g, forwarded("/limited/a") + bearer(tok))
    assert_error(r, 429, "rate_limited")
    assert int(r.header("Retry-After")) >= 1 and r.header("RateLimit")
