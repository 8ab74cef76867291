"""SPEC §10 protected resource metadata (RFC 9728), the discovery MCP clients use: the documents
at the well-known paths (path-aware, one per MCP server behind the gateway) and the
`resource_metadata` parameter of every 401 challenge."""


import pytest

from conftest import upstream_block

SECRET = "protected-resource-integration-secret-0123456789"
WELL_KNOWN = "/.well-known/oauth-protected-resource"


@pytest.fixture(scope="module")
def gw(module_gateways, module_upstream):
    body = (upstream_block("u", module_upstream.port)
            + f'tokens {{ signing_key t HS256 "{SECRET}"; issuer https://gw.test; audience api; }}\n'
            + "resource https://api.test;\n"
            + "route /mcp/a/** { resource https://api.test/mcp/a; require tools:call; upstream u; }\n"
            + "route /mcp/b/** { resource https://api.test/mcp/b; upstream u; }\n"
            + "route /api/** { require memory:read; upstream u; }\n"
            + "route /pub/** { public; upstream u; }\n")
    return module_gateways.new("protected-resource").start(body)


@pytest.mark.parametrize("path,resource,scopes", [
    (WELL_KNOWN, "https://api.test", ["memory:read", "tools:call"]),
    (WELL_KNOWN + "/mcp/a", "https://api.test/mcp/a", ["tools:call"]),
    (WELL_KNOWN + "/mcp/b", "https://api.test/mcp/b", []),
])
def test_metadata_documents(gw, path, resource, scopes):
    r = gw.request("GET", path)
    assert r.status == 200 and r.header("Content-Type") == "application/json"
    doc = r.json()
    # RFC 9728 §3.3: the resource in the document is the one the URL was derived from.
    assert doc["resource"] == resource
    assert doc["authorization_servers"] == ["https://gw.test"]
    assert doc["scopes_supported"] == scopes and doc["bearer_methods_supported"] == ["header"]


def test_unknown_metadata_path_is_not_found(gw):
    assert gw.request("GET", WELL_KNOWN + "/mcp/c").status == 404


def test_metadata_is_read_only(gw):
    r = gw.request("POST", WELL_KNOWN, body=b"{}")
    assert r.status == 405 and "GET" in r.header("Allow")


@pytest.mark.parametrize("path,metadata", [
    ("/mcp/a/tools", "https://api.test" + WELL_KNOWN + "/mcp/a"),
    ("/mcp/b/x", "https://api.test" + WELL_KNOWN + "/mcp/b"),
    ("/api/x", "https://api.test" + WELL_KNOWN),
])
@pytest.mark.parametrize("credential", [None, "Bearer not-a-token"])
def test_every_401_points_to_the_route_metadata(gw, path, metadata, credential):
    headers = [("Authorization", credential)] if credential else []
    r = gw.request("GET", path, headers=headers)
    assert r.status == 401
    challenge = r.header("WWW-Authenticate")
    expected = 'Bearer realm="gateway"' + (', error="invalid_token"' if credential else "")
    assert challenge == f'{expected}, resource_metadata="{metadata}"'


def test_public_route_and_403_carry_no_resource_challenge(gw, module_upstream):
    import jwt
    token = jwt.encode({"sub": "u", "aud": "api", "iss": "https://gw.test", "exp": 4102444800},
                       SECRET, algorithm="HS256", headers={"typ": "at+jwt", "kid": "t"})
    r = gw.request("GET", "/mcp/a/x", headers=[("Authorization", "Bearer " + token)])
    assert r.status == 403 and "resource_metadata" not in (r.header("WWW-Authenticate") or "")
    assert gw.request("GET", "/pub/x").status == 200
