"""SPEC §5 keys from a JWKS URL: a small JWKS server on 127.0.0.1 (counting its requests), tokens
minted with PyJWT, rotation through an unknown kid, the fetch rate limit under random kids, the
last good key set surviving an outage or garbage, reload keeping the keys (HTTPS and discovery: test_oidc.py)."""

import json
import threading
import time
import uuid

import pytest

jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from jwt.algorithms import ECAlgorithm  # noqa: E402

from conftest import HOST, assert_error, echo, request, run_cli, upstream_block, wait_until  # noqa: E402
from jsonserver import JSONHandler, loopback_server, serve_in_background  # noqa: E402

ISS, AUD = "https://idp.test", "agent-api"


class JWKSServer:
    """Serves `document` at any path. `mode`: ok | garbage | status500 | hang. `framing`:
    length | chunked | close. `requests` counts every request received."""

    def __init__(self):
        self.document = {"keys": []}
        self.mode = "ok"
        self.framing = "length"
        self.requests = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(JSONHandler):
            def do_GET(self):  # noqa: N802
                with owner.lock:
                    owner.requests += 1
                    mode, framing, doc = owner.mode, owner.framing, owner.document
                if mode == "hang":
                    time.sleep(8)
                    return
                if mode == "status500":
                    body, status = b'{"error":"down"}', 500
                elif mode == "garbage":
                    body, status = b"<html>this is not a key set</html>", 200
                else:
                    body, status = json.dumps(doc).encode(), 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if framing == "chunked":
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    half = len(body) // 2
                    for piece in (body[:half], body[half:]):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                elif framing == "close":
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body)
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

        self.server = loopback_server(Handler)
        self.stopped = False
        self.port = self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/.well-known/jwks.json"

    def start(self) -> "JWKSServer":
        serve_in_background(self.server)
        return self

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.server.shutdown()
            self.server.server_close()

    def count(self) -> int:
        with self.lock:
            return self.requests


class Keys:
    """EC P-256 signing keys by kid; `jwks(*kids)` is the public document."""

    def __init__(self):
        self.by_kid = {}

    def key(self, kid):
        if kid not in self.by_kid:
            self.by_kid[kid] = ec.generate_private_key(ec.SECP256R1())
        return self.by_kid[kid]

    def jwks(self, *kids) -> dict:
        out = []
        for kid in kids:
            jwk = json.loads(ECAlgorithm.to_jwk(self.key(kid).public_key()))
            jwk.update(kid=kid, alg="ES256", use="sig")
            out.append(jwk)
        return {"keys": out}

    def token(self, kid, signer=None) -> str:
        now = int(time.time())
        claims = {"iss": ISS, "aud": AUD, "sub": "user-7", "iat": now, "exp": now + 600}
        return jwt.encode(claims, self.key(signer or kid), algorithm="ES256", headers={"kid": kid})


@pytest.fixture
def keys():
    return Keys()


@pytest.fixture
def jwks(keys):
    server = JWKSServer()
    server.document = keys.jwks("k1")
    server.start()
    yield server
    server.stop()


def jwks_config(upstream_port: int, *urls: str, refresh: str = "") -> str:
    lines = "".join(f"    jwks_url {u}{(' refresh=' + refresh) if refresh else ''};\n" for u in urls)
    return (upstream_block("u", upstream_port)
            + f"jwt {{\n    issuer {ISS};\n    audience {AUD};\n{lines}    cache 0;\n}}\n"
            + "route /api/** { upstream u; }\n")


def call(gw, token, timeout=15.0):
    return gw.request("GET", "/api/me", headers=[("Authorization", "Bearer " + token)], timeout=timeout)


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_token_signed_by_a_url_key_is_accepted(gateways, upstream, keys, jwks, framing):
    jwks.framing = framing
    gw = gateways.start(jwks_config(upstream.port, jwks.url))
    assert jwks.count() == 1, "one fetch before serving"
    doc = echo(call(gw, keys.token("k1")))
    assert [v for n, v in doc["headers"] if n.lower() == "x-auth-key-id"] == ["k1"]
    # The key is bound to its kid and algorithm: another signer under the same kid fails.
    assert_error(call(gw, keys.token("k1", signer="intruder")), 401, "invalid_token")
    assert "jwks refreshed" in gw.stderr_text()


def test_rotation_a_new_kid_is_fetched_and_accepted(gateways, upstream, keys, jwks):
    gw = gateways.start(jwks_config(upstream.port, jwks.url))
    assert echo(call(gw, keys.token("k1")))
    jwks.document = keys.jwks("k1", "k2")
    # The first request with the new kid waits for the fetch it triggers, then passes.
    started = time.monotonic()
    assert echo(call(gw, keys.token("k2")))
    assert time.monotonic() - started < 5
    assert jwks.count() == 2
    assert echo(call(gw, keys.token("k1")))
    assert echo(call(gw, keys.token("k2")))
    assert jwks.count() == 2


def test_random_kids_cause_at_most_one_extra_fetch(gateways, upstream, keys, jwks):
    gw = gateways.start(jwks_config(upstream.port, jwks.url))
    before = jwks.count()
    for _ in range(200):
        r = call(gw, keys.token("rand-" + uuid.uuid4().hex, signer="k1"))
        assert_error(r, 401, "invalid_token")
    assert jwks.count() - before <= 1
    assert echo(call(gw, keys.token("k1")))
    assert len(upstream.requests) == 1


@pytest.mark.parametrize("failure", ["garbage", "status500", "down", "hang"])
def test_last_good_keys_survive_a_failing_key_server(gateways, upstream, keys, jwks, failure):
    gw = gateways.start(jwks_config(upstream.port, jwks.url))
    assert echo(call(gw, keys.token("k1")))
    if failure == "down":
        jwks.stop()
    else:
        jwks.mode = failure
    # An unknown kid makes the gateway fetch now; the fetch fails and the old set stays. The
    # key source is down, so the token may be fine: 503 with Retry-After, not 401.
    r = call(gw, keys.token("k9"))
    assert_error(r, 503, "temporarily_unavailable")
    assert int(r.header("Retry-After")) >= 1
    wait_until(lambda: "jwks fetch failed" in gw.stderr_text(), 10, message="the failed fetch to be logged")
    assert echo(call(gw, keys.token("k1")))
    assert_error(call(gw, keys.token("k8")), 503, "temporarily_unavailable")
    for line in gw.stderr_text().splitlines():
        if "jwks fetch failed" in line:
            entry = json.loads(line)
            assert entry["reason"] and entry["keys"] == "1", entry
            assert keys.jwks("k1")["keys"][0]["x"] not in line


def test_gateway_starts_without_the_key_server_and_recovers(gateways, upstream, keys, jwks):
    jwks.mode = "status500"
    gw = gateways.start(jwks_config(upstream.port, jwks.url))
    assert "jwks not available yet" in gw.stderr_text()
    jwks.mode = "ok"
    # No keys yet: the token's kid triggers a fetch, which now succeeds.
    assert echo(call(gw, keys.token("k1")))


def test_reload_keeps_the_keys_of_a_url_still_configured(gateways, upstream, keys, jwks):
    gw = gateways.start(jwks_config(upstream.port, jwks.url))
    assert echo(call(gw, keys.token("k1")))
    jwks.mode = "status500"
    gw.reload(jwks_config(upstream.port, jwks.url, refresh="5m") + "route /other/** { upstream u; }\n")
    wait_until(lambda: "config reloaded" in gw.stderr_text(), 10, message="the reload")
    assert echo(call(gw, keys.token("k1")))
    assert jwks.count() == 1, "a kept source is not fetched again on reload"


def test_check_config_accepts_http_and_fetches_nothing(gateway_bin, tmp_path, jwks):
    conf = tmp_path / "j.conf"
    conf.write_text(jwks_config(1, jwks.url))
    r = run_cli(gateway_bin, "check-config", "--config", str(conf))
    assert r.returncode == 0, r.stderr
    assert jwks.count() == 0


@pytest.mark.parametrize("line,column,message", [
    ("jwks_url http://user:pw@idp.test/jwks.json;", 14, "user information is not allowed"),
    ("jwks_url http://idp.test/jwks.json refresh=5s;", 40, "at least 30s"),
])
def test_bad_jwks_url_is_a_check_config_error(gateway_bin, tmp_path, line, column, message):
    conf = tmp_path / "j.conf"
    conf.write_text(f"jwt {{\n    issuer {ISS};\n    {line}\n}}\nroute /x {{ deny; }}\n")
    r = run_cli(gateway_bin, "check-config", "--config", str(conf))
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{conf}:3:{column}: " in r.stderr and message in r.stderr, r.stderr


def test_readyz_waits_for_the_first_key_fetch(gateways, upstream, keys, jwks):
    jwks.mode = "status500"
    gw = gateways.start(jwks_config(upstream.port, jwks.url), admin=True)
    r = request(gw.admin_port, "GET", "/readyz")
    assert r.status == 503, r
    assert r.body.decode() == f"not ready: no keys fetched yet from {jwks.url} (issuer {ISS})\n"
    assert request(gw.admin_port, "GET", "/healthz").status == 200   # alive, just not ready
    jwks.mode = "ok"
    assert echo(call(gw, keys.token("k1")))   # its unknown kid asks for a fetch
    wait_until(lambda: request(gw.admin_port, "GET", "/readyz").status == 200, 10, message="ready once keys arrived")
    assert request(gw.admin_port, "GET", "/readyz").body == b"ready\n"
