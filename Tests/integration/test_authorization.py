"""SPEC §6 authorization through the proxy: roles with @includes and wildcards, require,
require_any, require_role, match_claim (tenant isolation), and the 403 bodies and challenges.
Tokens are minted by PyJWT; denied requests never reach the upstream."""

import time

import pytest

jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")

from conftest import assert_error, echo, hdr, upstream_block  # noqa: E402

SECRET = "authz-secret-0123456789abcdef0123456789"
ISS, AUD = "https://idp.authz.test", "agent-api"

ROLES = """roles {
    reader  memory:read memory:search session:read;
    writer  @reader memory:create session:create;
    admin   @writer admin:*;
}
"""


@pytest.fixture(scope="module")
def gw(module_gateways, module_upstream):
    body = (upstream_block("u", module_upstream.port) + ROLES
            + f"jwt {{\n    issuer {ISS};\n    audience {AUD};\n    key hs HS256 env:AUTHZ_SECRET;\n}}\n"
            "route /api/v1/sessions {\n    methods POST;\n    require session:create;\n    upstream u;\n}\n"
            "route /api/v1/sessions/{id} {\n    methods GET;\n    require_any session:read admin:read;\n    upstream u;\n}\n"
            "route /api/v1/orgs/{org}/memory/** {\n    require memory:read;\n    match_claim org_id {org};\n    upstream u;\n}\n"
            "route /admin/** {\n    require_role admin;\n    upstream u;\n}\n"
            "route /admin/keys/** {\n    require admin:keys:write;\n    upstream u;\n}\n"
            "route /feed/** {\n    auth optional;\n    require memory:read;\n    upstream u;\n}\n"
            "route /internal/** { deny; }\n")
    return module_gateways.new("authz").start(body, env={"AUTHZ_SECRET": SECRET})


@pytest.fixture
def up(module_upstream):
    module_upstream.reset()
    return module_upstream


def token(**claims):
    now = int(time.time())
    base = {"iss": ISS, "aud": AUD, "sub": "u-1", "iat": now, "exp": now + 600}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, SECRET, algorithm="HS256")


def call(gw, method, path, tok, **kw):
    return gw.request(method, path, headers=[("Authorization", "Bearer " + tok)], **kw)


def test_role_grants_reach_the_upstream_as_effective_permissions(gw, up):
    doc = echo(call(gw, "POST", "/api/v1/sessions", token(roles=["writer"]), body=b"{}"))
    assert hdr(doc["headers"], "X-Auth-Permissions") == [
        "memory:create,memory:read,memory:search,session:create,session:read"]
    assert hdr(doc["headers"], "X-Auth-Roles") == ["writer"]


def test_missing_permission_is_insufficient_scope(gw, up):
    resp = call(gw, "POST", "/api/v1/sessions", token(roles=["reader"]), body=b"{}")
    assert_error(resp, 403, "insufficient_scope")
    assert resp.header("WWW-Authenticate") == 'Bearer error="insufficient_scope", scope="session:create"'
    assert up.requests == []


@pytest.mark.parametrize("claims,allowed", [
    ({"scope": "session:read"}, True),
    ({"permissions": ["admin:read"]}, True),
    ({"roles": ["admin"]}, True),               # admin:* covers admin:read
    ({"scope": "memory:read"}, False),
    ({}, False),
])
def test_require_any(gw, up, claims, allowed):
    resp = call(gw, "GET", "/api/v1/sessions/7", token(**claims))
    if allowed:
        assert echo(resp)
    else:
        assert_error(resp, 403, "insufficient_scope")
        assert resp.header("WWW-Authenticate") == 'Bearer error="insufficient_scope", scope="session:read admin:read"'
        assert up.requests == []


def test_tenant_isolation(gw, up):
    tok = token(roles=["reader"], org_id="acme")
    assert echo(call(gw, "GET", "/api/v1/orgs/acme/memory/notes", tok))
    up.reset()
    for path in ("/api/v1/orgs/globex/memory/notes", "/api/v1/orgs/ACME/memory/x", "/api/v1/orgs/acme%20/memory/x"):
        assert_error(call(gw, "GET", path, tok), 403, "access_denied")
    # No org claim at all: denied as well.
    assert_error(call(gw, "GET", "/api/v1/orgs/acme/memory/x", token(roles=["reader"])), 403, "access_denied")
    # The permission check comes first.
    resp = call(gw, "GET", "/api/v1/orgs/globex/memory/x", token(org_id="globex"))
    assert_error(resp, 403, "insufficient_scope")
    assert up.requests == []


def test_require_role_follows_includes_and_is_access_denied(gw, up):
    assert echo(call(gw, "GET", "/admin/stats", token(roles=["admin"])))
    up.reset()
    resp = call(gw, "GET", "/admin/stats", token(roles=["writer"], scope="admin:stats"))
    assert_error(resp, 403, "access_denied")
    assert resp.header("WWW-Authenticate") is None
    assert up.requests == []


def test_wildcard_area_grant(gw, up):
    assert echo(call(gw, "GET", "/admin/keys/1", token(permissions=["admin:*"], roles=["admin"])))
    up.reset()
    # A near-miss area does not match: "admin:*" is not "adm:*".
    resp = call(gw, "GET", "/admin/keys/1", token(roles=["writer"], permissions=["adm:*"]))
    assert resp.status == 403
    assert up.requests == []


def test_optional_route_with_rules_needs_a_credential(gw, up):
    resp = gw.request("GET", "/feed/x")
    assert_error(resp, 401, "unauthorized")
    assert resp.header("WWW-Authenticate") == 'Bearer realm="gateway"'
    assert echo(call(gw, "GET", "/feed/x", token(scope="memory:read")))


def test_deny_route(gw, up):
    assert_error(call(gw, "GET", "/internal/x", token(roles=["admin"])), 403, "access_denied")
    assert up.requests == []


def test_forged_permission_headers_do_not_help(gw, up):
    resp = gw.request("POST", "/api/v1/sessions", body=b"{}", headers=[
        ("Authorization", "Bearer " + token(roles=["reader"])), ("X-Auth-Permissions", "session:create"),
        ("X-Auth-Roles", "admin")])
    assert_error(resp, 403, "insufficient_scope")
    assert up.requests == []
