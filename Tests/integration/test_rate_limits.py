"""SPEC §7 rate limits through the proxy: exact burst then 429 with Retry-After, the
RateLimit-Policy / RateLimit headers (draft-ietf-httpapi-ratelimit-headers), one bucket per
principal (API key id, JWT subject, or client address when anonymous), a key's stored limit
over the configured default, `rate_limit off`, and the failed-authentication limit per client
address (behind a trusted proxy: per X-Forwarded-For client)."""

import json
import re
import time

import pytest

jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")

from conftest import assert_error, run_cli, upstream_block, wait_until  # noqa: E402

SECRET = "ratelimit-secret-0123456789abcdef01234567"
ISS, AUD = "https://idp.rl.test", "rl-api"


@pytest.fixture(scope="module")
def env(module_gateways, module_upstream, gateway_bin, tmp_path_factory):
    store = tmp_path_factory.mktemp("rl") / "gateway.db"
    gw = module_gateways.new("rl")
    body = (upstream_block("u", module_upstream.port)
            + f"store sqlite {store};\napi_keys {{ }}\n"
            + f"jwt {{\n    issuer {ISS};\n    audience {AUD};\n    key hs HS256 env:RL_SECRET;\n}}\n"
            + "rate_limit 100/min;\n"
            "route /limited/** {\n    rate_limit 5/min;\n    upstream u;\n}\n"
            "route /bursty/** {\n    rate_limit 60/min burst=2;\n    upstream u;\n}\n"
            "route /default/** { upstream u; }\n"
            "route /unlimited/** {\n    rate_limit off;\n    upstream u;\n}\n"
            "route /public/** {\n    public;\n    rate_limit 3/min;\n    upstream u;\n}\n")
    gw.write_config(gw.config(body))

    def cli(*args):
        r = run_cli(gateway_bin, "keys", *args, "--config", str(gw.config_path), env={"RL_SECRET": SECRET})
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    keys = [cli("create", "--name", f"k{i}", "--principal", f"p{i}", "--json")["key"] for i in range(3)]
    slow = cli("create", "--name", "slow", "--principal", "p-slow", "--rate-limit", "2/min", "--json")["key"]
    gw.start(raw_config=gw.config_path.read_text(), env={"RL_SECRET": SECRET})
    return gw, keys, slow


@pytest.fixture
def up(module_upstream):
    module_upstream.reset()
    return module_upstream


def with_key(gw, key, path):
    return gw.request("GET", path, headers=[("X-API-Key", key)])


def parse_ratelimit(value):
    m = re.fullmatch(r'"([^"]+)";r=(\d+);t=(\d+)', value)
    assert m, value
    return m.group(1), int(m.group(2)), int(m.group(3))


def test_exact_burst_then_429_with_consistent_headers(env, up):
    gw, keys, _ = env
    seen = []
    for _ in range(5):
        resp = with_key(gw, keys[0], "/limited/x")
        assert resp.status == 200, resp
        assert resp.header("RateLimit-Policy") == '"route";q=5;w=60'
        seen.append(parse_ratelimit(resp.header("RateLimit")))
    assert [r for _, r, _ in seen] == [4, 3, 2, 1, 0]
    assert all(name == "route" for name, _, _ in seen)
    assert all(0 < t <= 60 for _, _, t in seen)
    resp = with_key(gw, keys[0], "/limited/x")
    doc = assert_error(resp, 429, "rate_limited")
    assert doc["error_description"]
    retry = int(resp.header("Retry-After"))
    assert 1 <= retry <= 12          # 5/min: one request every 12 s
    name, remaining, reset = parse_ratelimit(resp.header("RateLimit"))
    assert remaining == 0 and reset == retry
    assert resp.header("RateLimit-Policy") == '"route";q=5;w=60'
    assert len(up.requests) == 5


def test_buckets_are_per_principal(env, up):
    gw, keys, _ = env
    for _ in range(5):
        assert with_key(gw, keys[1], "/limited/y").status == 200
    assert with_key(gw, keys[1], "/limited/y").status == 429
    assert with_key(gw, keys[2], "/limited/y").status == 200   # another key, its own bucket


def test_burst_refills(env, up):
    gw, keys, _ = env
    assert [with_key(gw, keys[2], "/bursty/a").status for _ in range(3)] == [200, 200, 429]
    time.sleep(1.1)                                        # 60/min: one more per second
    assert with_key(gw, keys[2], "/bursty/a").status == 200


def test_key_stored_limit_wins_over_default(env, up):
    gw, keys, slow = env
    assert [with_key(gw, slow, "/default/x").status for _ in range(3)] == [200, 200, 429]
    resp = with_key(gw, keys[0], "/default/x")
    assert resp.status == 200 and resp.header("RateLimit-Policy") == '"default";q=100;w=60'
    # A route's own limit still applies to that key.
    resp = with_key(gw, slow, "/limited/z")
    assert resp.status == 200 and resp.header("RateLimit-Policy") == '"route";q=5;w=60'


def test_rate_limit_off_has_no_headers(env, up):
    gw, keys, slow = env
    for _ in range(4):
        resp = with_key(gw, slow, "/unlimited/x")
        assert resp.status == 200 and resp.header("RateLimit") is None and resp.header("RateLimit-Policy") is None


def test_jwt_subject_is_the_principal(env, up):
    gw, _, _ = env
    now = int(time.time())

    def tok(jti):
        return jwt.encode({"iss": ISS, "aud": AUD, "sub": "jwt-user", "exp": now + 600, "jti": jti}, SECRET, algorithm="HS256")
    statuses = [gw.request("GET", "/limited/j", headers=[("Authorization", "Bearer " + tok(str(i)))]).status for i in range(6)]
    assert statuses == [200] * 5 + [429]     # different tokens, same subject: one bucket


def test_anonymous_public_route_is_limited_per_address(env, up):
    gw, _, _ = env
    assert [gw.request("GET", "/public/p").status for _ in range(4)] == [200, 200, 200, 429]


def test_auth_failures_are_limited_per_client(gateways, upstream, gateway_bin, tmp_path):
    store = tmp_path / "k.db"
    gw = gateways.new("fail")
    gw.write_config(gw.config(
        upstream_block("u", upstream.port) + f"store sqlite {store};\napi_keys {{ }}\n"
        "trust_proxies 127.0.0.1;\nauth_failure_limit 3/min burst=3;\nroute /api/** { upstream u; }\n",
        auth_failure_limit=None))
    r = run_cli(gateway_bin, "keys", "create", "--name", "good", "--principal", "ok", "--json", "--config", str(gw.config_path))
    good = json.loads(r.stdout)["key"]
    gw.start(raw_config=gw.config_path.read_text())

    def call(key, client):
        return gw.request("GET", "/api/x", headers=[("X-API-Key", key), ("X-Forwarded-For", client)])

    wait_until(lambda: call(good, "203.0.113.9").status == 200, message="key usable")
    bad = "gw_" + "A" * 12 + "_" + "B" * 38
    assert [call(bad, "198.51.100.7").status for _ in range(3)] == [401, 401, 401]
    resp = call(good, "198.51.100.7")              # even a valid key: the address is locked out
    assert_error(resp, 429, "rate_limited")
    assert int(resp.header("Retry-After")) >= 1
    assert call(bad, "198.51.100.7").status == 429
    # The rightmost hop that is not a trusted proxy is the client.
    assert call(good, "198.51.100.7, 127.0.0.1").status == 429
    assert call(good, "10.9.9.9, 198.51.100.7").status == 429
    # Another client (behind the same trusted proxy) is unaffected.
    assert call(good, "198.51.100.8").status == 200
    assert call(bad, "198.51.100.8").status == 401
