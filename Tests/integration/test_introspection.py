"""SPEC §5 delegated authentication: opaque bearer tokens checked by an OAuth 2 token
introspection endpoint (RFC 7662). The endpoint is a small HTTPS server written from the RFC:
it authenticates the gateway with HTTP Basic, reads the form body and answers `active` with the
token's claims. Caching (by token hash, never past `exp`), negative caching, the endpoint's
failure as 503, the JWT / opaque split and secrets kept out of logs."""

from __future__ import annotations

import base64
import shutil
import socket
import threading
import time
import urllib.parse

import pytest

from conftest import HOST, assert_error, echo, hdr, run_cli, upstream_block
from jsonserver import JSONHandler, loopback_server, serve_in_background
from tlspki import PKI

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
CLIENT_ID, CLIENT_SECRET = "gateway-rs", "s3cr3t-introspection-Pa55"


class IntrospectionEndpoint:
    """RFC 7662 §2: POST form `token` (+ `token_type_hint`), client authentication by HTTP Basic;
    answers `{"active": false}` for unknown tokens. `mode`: ok | down | garbage."""

    def __init__(self, pki: PKI | None):
        self.tokens: dict[str, dict] = {}
        self.calls: list[dict] = []
        self.mode = "ok"
        self.delay = 0.0   # seconds before each answer
        self.lock = threading.Lock()
        owner = self

        class Handler(JSONHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode(), strict_parsing=True)
                auth = self.headers.get("Authorization", "")
                with owner.lock:
                    owner.calls.append({"form": form, "auth": auth, "type": self.headers.get("Content-Type")})
                    mode = owner.mode
                if owner.delay:
                    time.sleep(owner.delay)
                expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                if mode == "down":
                    return self.reply(500, {"error": "server_error"})
                if mode == "garbage":
                    return self.reply(200, None, raw=b"<html>nope</html>")
                if auth != expected:
                    return self.reply(401, {"error": "invalid_client"})
                token = form.get("token", [""])[0]
                with owner.lock:
                    doc = owner.tokens.get(token)
                self.reply(200, dict(doc, active=True) if doc else {"active": False})

        self.server = loopback_server(Handler, pki, name="introspect")
        self.scheme = "https" if pki else "http"
        self.port = self.server.server_address[1]
        serve_in_background(self.server)

    @property
    def url(self) -> str:
        host = "localhost" if self.scheme == "https" else HOST
        return f"{self.scheme}://{host}:{self.port}/oauth2/introspect"

    def count(self) -> int:
        with self.lock:
            return len(self.calls)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(tmp_path_factory.mktemp("introspection-pki"))


@pytest.fixture
def endpoint(pki):
    e = IntrospectionEndpoint(pki)
    now = int(time.time())
    e.tokens["opaque-alice"] = {"sub": "alice", "scope": "memory:read memory:write", "exp": now + 600,
                                "client_id": "app-1", "jti": "t-1", "iss": "https://as.test"}
    e.tokens["opaque-robot"] = {"client_id": "robot-7", "scope": "memory:read", "exp": now + 600}
    yield e
    e.stop()


def config(upstream_port: int, url: str, extra: str = "", cache: str = "30s") -> str:
    return (upstream_block("u", upstream_port)
            + f"introspection {{\n    url {url};\n    client_id {CLIENT_ID};\n    client_secret env:INTROSPECT_SECRET;\n"
            f"    cache {cache};\n    negative_cache 1s;\n}}\n" + extra
            + "route /api/** { require memory:read; upstream u; }\n")


def start(gateways, upstream, endpoint, pki, **kw):
    return gateways.new().start(config(upstream.port, endpoint.url, **kw), access_log="stdout",
                                env={"INTROSPECT_SECRET": CLIENT_SECRET, "SSL_CERT_FILE": pki.ca_cert})


def call(gw, token: str):
    return gw.request("GET", "/api/x", {"Authorization": f"Bearer {token}"})


def test_an_active_token_becomes_the_identity(gateways, upstream, endpoint, pki):
    gw = start(gateways, upstream, endpoint, pki)
    doc = echo(call(gw, "opaque-alice"))
    headers = doc["headers"]
    assert hdr(headers, "X-Auth-User-Id") == ["alice"]
    assert hdr(headers, "X-Auth-Method") == ["introspection"]
    assert hdr(headers, "X-Auth-Token-Id") == ["t-1"]
    assert set(hdr(headers, "X-Auth-Permissions")[0].split(",")) == {"memory:read", "memory:write"}
    assert hdr(headers, "Authorization") == [], "the token is not forwarded"
    call0 = endpoint.calls[0]
    assert call0["form"] == {"token": ["opaque-alice"], "token_type_hint": ["access_token"]}
    assert call0["type"] == "application/x-www-form-urlencoded"


def test_a_client_credentials_token_uses_client_id(gateways, upstream, endpoint, pki):
    gw = start(gateways, upstream, endpoint, pki)
    assert hdr(echo(call(gw, "opaque-robot"))["headers"], "X-Auth-User-Id") == ["robot-7"]


def test_inactive_is_401_and_cached_briefly(gateways, upstream, endpoint, pki):
    gw = start(gateways, upstream, endpoint, pki)
    assert_error(call(gw, "opaque-unknown"), 401, "invalid_token")
    assert_error(call(gw, "opaque-unknown"), 401, "invalid_token")
    assert endpoint.count() == 1, "active:false is cached (negative_cache 1s)"
    time.sleep(1.2)
    assert_error(call(gw, "opaque-unknown"), 401, "invalid_token")
    assert endpoint.count() == 2


def test_answers_are_cached_by_token_and_never_past_exp(gateways, upstream, endpoint, pki):
    now = int(time.time())
    endpoint.tokens["opaque-short"] = {"sub": "bob", "scope": "memory:read", "exp": now + 2}
    gw = start(gateways, upstream, endpoint, pki)
    for _ in range(5):
        assert echo(call(gw, "opaque-alice"))
    assert endpoint.count() == 1, "one introspection call for five requests"
    assert echo(call(gw, "opaque-short"))
    time.sleep(max(0.0, now + 3 - time.time()))
    assert_error(call(gw, "opaque-short"), 401, "invalid_token")   # expired: asked again, refused


def test_cache_expiry_asks_again(gateways, upstream, endpoint, pki):
    gw = start(gateways, upstream, endpoint, pki, cache="1s")
    assert echo(call(gw, "opaque-alice"))
    time.sleep(1.2)
    assert echo(call(gw, "opaque-alice"))
    assert endpoint.count() == 2


def test_a_new_answer_replaces_the_old_permissions(gateways, upstream, endpoint, pki):
    # The endpoint narrows the token's scope: once the cached answer ends, the next one is
    # what the gateway authorizes with and forwards (nothing rendered from the old one).
    gw = start(gateways, upstream, endpoint, pki, cache="1s")
    doc = echo(call(gw, "opaque-alice"))
    assert set(hdr(doc["headers"], "X-Auth-Permissions")[0].split(",")) == {"memory:read", "memory:write"}
    with endpoint.lock:
        endpoint.tokens["opaque-alice"] = dict(endpoint.tokens["opaque-alice"], scope="memory:read")
    time.sleep(1.2)
    doc = echo(call(gw, "opaque-alice"))
    assert endpoint.count() == 2
    assert hdr(doc["headers"], "X-Auth-Permissions") == ["memory:read"]
    with endpoint.lock:
        endpoint.tokens["opaque-alice"] = dict(endpoint.tokens["opaque-alice"], scope="memory:other")
    time.sleep(1.2)
    assert_error(call(gw, "opaque-alice"), 403, "insufficient_scope")


@pytest.mark.parametrize("mode", ["down", "garbage"])
def test_an_endpoint_failure_is_a_503_not_a_401(gateways, upstream, endpoint, pki, mode):
    endpoint.mode = mode
    gw = start(gateways, upstream, endpoint, pki)
    resp = call(gw, "opaque-alice")
    assert_error(resp, 503, "temporarily_unavailable")
    assert int(resp.header("Retry-After")) >= 1


def test_wrong_client_credentials_are_a_503(gateways, upstream, endpoint, pki):
    gw = gateways.new().start(config(upstream.port, endpoint.url), env={"INTROSPECT_SECRET": "wrong-secret",
                                                                          "SSL_CERT_FILE": pki.ca_cert})
    assert_error(call(gw, "opaque-alice"), 503, "temporarily_unavailable")


def test_an_unreachable_endpoint_is_a_503(gateways, upstream, pki):
    gw = gateways.new().start(config(upstream.port, "https://127.0.0.1:9/introspect"),
                              env={"INTROSPECT_SECRET": CLIENT_SECRET})
    assert_error(call(gw, "opaque-alice"), 503, "temporarily_unavailable")


def test_jwts_go_to_the_jwt_verifier_and_opaque_tokens_to_introspection(gateways, upstream, endpoint, pki):
    jwt = pytest.importorskip("jwt")
    secret = "k" * 40
    extra = f'jwt {{ issuer https://idp.test; audience api; key k1 HS256 "{secret}"; }}\n'
    gw = start(gateways, upstream, endpoint, pki, extra=extra)
    now = int(time.time())
    token = jwt.encode({"iss": "https://idp.test", "aud": "api", "sub": "jwt-user", "exp": now + 60,
                        "scope": "memory:read"}, secret, algorithm="HS256", headers={"kid": "k1"})
    assert hdr(echo(call(gw, token))["headers"], "X-Auth-Method") == ["jwt"]
    assert endpoint.count() == 0, "a JWT is never sent to the introspection endpoint"
    assert hdr(echo(call(gw, "opaque-alice"))["headers"], "X-Auth-Method") == ["introspection"]


def test_auth_introspection_route(gateways, upstream, endpoint, pki):
    extra = "route /only/** { auth introspection; upstream u; }\n"
    gw = start(gateways, upstream, endpoint, pki, extra=extra)
    resp = gw.request("GET", "/only/x", {"Authorization": "Bearer opaque-alice"})
    assert echo(resp)
    assert_error(gw.request("GET", "/only/x"), 401, "unauthorized")


def test_secrets_and_tokens_stay_out_of_logs(gateways, upstream, endpoint, pki):
    endpoint.mode = "down"
    gw = start(gateways, upstream, endpoint, pki)
    call(gw, "opaque-alice")
    endpoint.mode = "ok"
    time.sleep(2.2)
    call(gw, "opaque-alice")
    gw.stop()
    out = gw.stdout_text() + gw.stderr_text()
    assert "introspection failed" in out
    assert CLIENT_SECRET not in out and "opaque-alice" not in out
    assert base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode() not in out


@pytest.mark.parametrize("block,message", [
    ("introspection { url http://as.example/introspect; client_id a; client_secret env:S; }", "use https"),
    ("introspection { url https://as.example/introspect; client_id a; }", "needs a \"client_secret\""),
    ("introspection { url https://as.example/i; client_id a; client_secret env:S; cache 0s; }", "greater than 0"),
    ("introspection { url https://as.example/i; client_id a; client_secret env:S; ttl 5s; }", "unknown directive \"ttl\""),
])
def test_bad_introspection_is_a_check_config_error(gateway_bin, tmp_path, block, message):
    conf = tmp_path / "i.conf"
    conf.write_text(block + "\nroute /x { auth introspection; respond 200 \"x\"; }\n")
    r = run_cli(gateway_bin, "check-config", "--config", str(conf), env={"S": "secret-value-long-enough"})
    assert r.returncode != 0
    assert message in r.stderr, r.stderr


def test_auth_introspection_needs_the_block(gateway_bin, tmp_path):
    conf = tmp_path / "i.conf"
    conf.write_text("route /x { auth introspection; respond 200 \"x\"; }\n")
    r = run_cli(gateway_bin, "check-config", "--config", str(conf))
    assert r.returncode != 0
    assert "`introspection` is not configured" in r.stderr


def test_one_address_flooding_new_tokens_does_not_starve_other_users(gateways, upstream, endpoint, pki):
    # New random tokens from one address are queued a few at a time (the rest get 503 at once),
    # so another user's new token is asked about without waiting behind them.
    endpoint.delay = 0.2
    gw = start(gateways, upstream, endpoint, pki)
    statuses: list[int] = []

    def flood(i: int) -> None:
        s = socket.create_connection((HOST, gw.port), timeout=15, source_address=("127.0.0.2", 0))
        try:
            s.sendall(f"GET /api/x HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer flood-{i}\r\nConnection: close\r\n\r\n".encode())
            head = s.recv(64)
            statuses.append(int(head.split(b" ")[1]))
        finally:
            s.close()

    threads = [threading.Thread(target=flood, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    r = call(gw, "opaque-alice")
    waited = time.monotonic() - t0
    for t in threads:
        t.join(20)
    assert r.status == 200, r
    assert waited < 1.5, f"a user's new token waited {waited:.1f}s behind another address's flood"
    assert statuses.count(503) >= 45, statuses
    assert endpoint.count() <= 20, endpoint.count()


def test_a_configured_ca_trusts_an_endpoint_with_a_private_ca(gateways, upstream, endpoint, pki):
    # No SSL_CERT_FILE: only the block's `ca` knows the test CA.
    body = config(upstream.port, endpoint.url).replace("    cache 30s;\n", f"    cache 30s;\n    ca file:{pki.ca_cert};\n")
    gw = gateways.new().start(body, access_log="stdout", env={"INTROSPECT_SECRET": CLIENT_SECRET})
    assert call(gw, "opaque-alice").status == 200
    untrusting = gateways.new().start(config(upstream.port, endpoint.url), env={"INTROSPECT_SECRET": CLIENT_SECRET})
    assert_error(call(untrusting, "opaque-alice"), 503, "temporarily_unavailable")
