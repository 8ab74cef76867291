"""`gateway explain`: the access decision for one request, from the pipeline that serves, without
a socket (route, runners-up, credential, each rule, rate limit, decision, identity headers)."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest

from conftest import run_cli

SECRET = "explain-test-secret-0123456789abcdef0123456789"

CONFIG = """
upstream agents {{ server 127.0.0.1:9; }}
store sqlite {store};
api_keys {{ header X-API-Key; prefix gw_; }}
jwt {{
    issuer https://idp.test;
    audience api;
    key k1 HS256 "{secret}";
}}
roles {{ reader memory:read; }}
route /api/** {{ upstream agents; }}
route /api/v1/orgs/{{org}}/memory/** {{
    require memory:read;
    match_claim org_id {{org}};
    rate_limit 100/min;
    upstream agents;
}}
route /healthz {{ public; respond 200 "ok"; }}
route /closed/** {{ deny; }}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.conf"
    path.write_text(CONFIG.format(store=tmp_path / "k.db", secret=SECRET))
    return path


def explain(gateway_bin, config: Path, *args: str) -> tuple[int, dict]:
    r = run_cli(gateway_bin, "explain", "--config", str(config), "--json", *args)
    assert r.stdout.strip(), r.stderr
    return r.returncode, json.loads(r.stdout)


def token(**claims) -> str:
    base = {"iss": "https://idp.test", "aud": "api", "sub": "alice", "exp": 4_000_000_000}
    return jwt.encode({**base, **claims}, SECRET, algorithm="HS256", headers={"kid": "k1"})


def test_allowed_request_shows_route_runners_up_rules_limit_and_headers(gateway_bin, config):
    rc, out = explain(gateway_bin, config, "GET", "/api/v1/orgs/acme/memory/x",
                      "--token", token(permissions=["memory:read"], org_id="acme"))
    assert rc == 0 and out["decision"] == "allow" and out["status"] == 200, out
    assert out["path"] == "/api/v1/orgs/acme/memory/x"
    assert out["route"] == "/api/v1/orgs/{org}/memory/**" and out["action"] == "upstream agents"
    assert "/api/**" in out["other_routes"]
    assert out["authentication"].startswith('jwt "alice"') and out["signature_checked"] is True
    assert out["rules"] == ["require memory:read: passes", "match_claim org_id {org}: passes"], out
    assert "100" in out["rate_limit"]
    assert "X-Auth-User-Id: alice" in out["identity_headers"]


def test_refusals_name_status_code_and_reason(gateway_bin, config):
    rc, out = explain(gateway_bin, config, "GET", "/api/v1/orgs/other/memory/x",
                      "--token", token(permissions=["memory:read"], org_id="acme"))
    assert rc == 1 and (out["status"], out["error"], out["reason"]) == (403, "access_denied", "claim_mismatch"), out
    assert "match_claim org_id {org}: fails" in " ".join(out["rules"])
    rc, out = explain(gateway_bin, config, "GET", "/api/x")
    assert (out["status"], out["error"], out["reason"]) == (401, "unauthorized", "credential_missing"), out
    rc, out = explain(gateway_bin, config, "GET", "/api/x", "--token", token(exp=1))
    assert (out["status"], out["reason"]) == (401, "jwt_expired"), out
    rc, out = explain(gateway_bin, config, "GET", "/a/%2e%2e;/api/x")
    assert (out["status"], out["error"], out["reason"]) == (400, "invalid_request", "bad_path"), out
    rc, out = explain(gateway_bin, config, "GET", "/closed/x")
    assert (out["status"], out["reason"]) == (403, "route_denied"), out
    rc, out = explain(gateway_bin, config, "GET", "/nowhere")
    assert (out["status"], out["reason"]) == (404, "route_not_found"), out


def test_claims_skip_only_the_signature(gateway_bin, config):
    claims = json.dumps({"iss": "https://idp.test", "aud": "api", "sub": "bob", "exp": 4_000_000_000,
                         "permissions": ["memory:read"], "org_id": "acme"})
    rc, out = explain(gateway_bin, config, "GET", "/api/v1/orgs/acme/memory/x", "--claims", claims)
    assert rc == 0 and out["signature_checked"] is False and "NOT checked" in out["authentication"], out
    expired = json.dumps({"iss": "https://idp.test", "aud": "api", "sub": "bob", "exp": 1})
    rc, out = explain(gateway_bin, config, "GET", "/api/x", "--claims", expired)
    assert (rc, out["reason"]) == (1, "jwt_expired"), out


def test_api_key_from_the_store(gateway_bin, config):
    created = run_cli(gateway_bin, "keys", "create", "--name", "k", "--principal", "svc", "--roles", "reader",
                      "--org", "acme", "--json", "--config", str(config))
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["key"]
    rc, out = explain(gateway_bin, config, "GET", "/api/v1/orgs/acme/memory/x", "--key", key)
    assert rc == 0 and out["authentication"].startswith('api_key "svc"'), out
    rc, out = explain(gateway_bin, config, "GET", "/api/x", "--key", key[:-1] + ("A" if key[-1] != "A" else "B"))
    assert (rc, out["status"], out["error"]) == (1, 401, "invalid_token"), out


def test_text_output_and_usage_errors(gateway_bin, config):
    r = run_cli(gateway_bin, "explain", "--config", str(config), "GET", "/healthz")
    assert r.returncode == 0 and "route" in r.stdout and "decision    allow" in r.stdout, r
    for bad in (["GET"], ["GET", "/x", "--key", "a", "--token", "b"], ["GET", "/x", "--bogus"]):
        r = run_cli(gateway_bin, "explain", "--config", str(config), *bad)
        assert r.returncode == 2 and r.stderr.startswith("gateway explain:"), r
