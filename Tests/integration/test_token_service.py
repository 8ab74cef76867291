"""SPEC §10 token service over HTTP: `POST /_gateway/token` (client_credentials with every client
authentication method, down-scoping, refresh rotation with reuse detection), `POST
/_gateway/revoke`, the published JWKS and RFC 8414 metadata, key revocation cascading to the
tokens issued from the key, and a signing-key rotation that never breaks a verifier.

The client side is real: authlib's `OAuth2Session` (the library applications use) obtains, uses
and refreshes tokens; PyJWT verifies what the gateway issued against the JWKS it publishes."""

import base64
import json
import sqlite3
import time
import urllib.parse

import pytest

jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")
requests = pytest.importorskip("requests", reason="requests is installed by scripts/test.sh")
authlib_client = pytest.importorskip("authlib.integrations.requests_client", reason="authlib is installed by scripts/test.sh")
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: E402

from conftest import Conn, hdr, run_cli, upstream_block, wait_until  # noqa: E402

OAuth2Session = authlib_client.OAuth2Session
ISS, AUD = "https://gateway.test", "agent-api"
TOKEN, REVOKE = "/_gateway/token", "/_gateway/revoke"
ROLES = "roles {\n    reader memory:read session:read;\n}\n"
ROUTES = ("route /api/memory/** { require memory:read; upstream u; }\n"
          "route /api/sessions/** { require session:read; upstream u; }\n"
          "route /api/** { upstream u; }\n")


def pem_private(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def tokens_block(d, keys=("es-1 ES256 es.pem", "ed-0 EdDSA ed.pem"), extra="") -> str:
    lines = "".join(f"    signing_key {kid} {alg} file:{d / name};\n" for kid, alg, name in (k.split() for k in keys))
    return f"tokens {{\n{lines}    issuer {ISS};\n    audience {AUD};\n    access_ttl 10m;\n{extra}}}\n"


class Env:
    def __init__(self, gw, gateway_bin, db):
        self.gw, self.bin, self.db = gw, gateway_bin, db
        self.base = f"http://127.0.0.1:{gw.port}"

    def cli(self, *args):
        return run_cli(self.bin, *args, "--config", str(self.gw.config_path), cwd=self.gw.dir)

    def new_key(self, permissions="memory:read,session:read", roles=None, principal="agent-1") -> dict:
        args = ["keys", "create", "--name", "k", "--principal", principal, "--org", "acme", "--json"]
        if permissions:
            args += ["--permissions", permissions]
        if roles:
            args += ["--roles", roles]
        r = self.cli(*args)
        assert r.returncode == 0, r.stderr
        key = json.loads(r.stdout)
        # The running gateway sees a new key within a second.
        wait_until(lambda: self.post(TOKEN, {"grant_type": "client_credentials"},
                                     headers={"X-API-Key": key["key"]}).status_code == 200,
                   timeout=3, message="the new key works")
        return key

    def post(self, path, data=None, headers=None, auth=None, json_body=None):
        return requests.post(self.base + path, data=data, json=json_body, headers=headers, auth=auth, timeout=10)

    def get(self, path, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(self.base + path, headers=headers, timeout=10)

    def exchange(self, key, **fields) -> dict:
        r = self.post(TOKEN, {"grant_type": "client_credentials", **fields}, headers={"X-API-Key": key["key"]})
        assert r.status_code == 200, r.text
        return r.json()

    def refresh(self, refresh_token):
        return self.post(TOKEN, {"grant_type": "refresh_token", "refresh_token": refresh_token})

    def jwks(self) -> dict:
        return self.get("/.well-known/jwks.json").json()

    def audit(self, kind):
        with sqlite3.connect(self.db) as db:
            return db.execute("SELECT principal_id, key_id, detail FROM audit_events WHERE kind = ?", (kind,)).fetchall()


@pytest.fixture(scope="module")
def env(module_gateways, module_upstream, gateway_bin, tmp_path_factory):
    d = tmp_path_factory.mktemp("token-service")
    (d / "es.pem").write_bytes(pem_private(ec.generate_private_key(ec.SECP256R1())))
    (d / "ed.pem").write_bytes(pem_private(ed25519.Ed25519PrivateKey.generate()))
    db = d / "store.db"
    body = (upstream_block("u", module_upstream.port) + ROLES + tokens_block(d)
            + f"store sqlite {db};\napi_keys {{ }}\n" + ROUTES)
    gw = module_gateways.new("token-service").start(body, workers=2)
    return Env(gw, gateway_bin, db)


@pytest.fixture(scope="module")
def key(env):
    return env.new_key()


def verify_with_published_jwks(env, token) -> dict:
    header = jwt.get_unverified_header(token)
    published = next(k for k in env.jwks()["keys"] if k["kid"] == header["kid"])
    return jwt.decode(token, jwt.PyJWK(published).key, algorithms=[header["alg"]], audience=AUD, issuer=ISS)


def assert_oauth_error(resp, status, code):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers.get("Cache-Control") == "no-store"
    doc = resp.json()
    assert doc["error"] == code, doc
    assert isinstance(doc["error_description"], str)
    return doc


# -- publishing -----------------------------------------------------------------------------

def test_metadata_describes_the_token_service(env):
    r = env.get("/.well-known/oauth-authorization-server")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    doc = r.json()
    assert doc["issuer"] == ISS
    assert doc["token_endpoint"] == ISS + TOKEN and doc["revocation_endpoint"] == ISS + REVOKE
    assert doc["jwks_uri"] == ISS + "/.well-known/jwks.json"
    assert set(doc["grant_types_supported"]) == {"client_credentials", "refresh_token"}
    assert set(doc["token_endpoint_auth_methods_supported"]) >= {"client_secret_basic", "client_secret_post"}
    assert {"memory:read", "session:read"} <= set(doc["scopes_supported"])


def test_jwks_publishes_current_and_previous_public_keys(env):
    r = env.get("/.well-known/jwks.json")
    assert r.status_code == 200 and "max-age" in r.headers["Cache-Control"]
    keys = {k["kid"]: k for k in r.json()["keys"]}
    assert set(keys) == {"es-1", "ed-0"}
    assert all("d" not in k for k in keys.values())


@pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/.well-known/oauth-authorization-server"])
def test_documents_are_get_only(env, path):
    r = env.post(path, {"a": "b"})
    assert r.status_code == 405 and "GET" in r.headers["Allow"]


@pytest.mark.parametrize("path", [TOKEN, REVOKE])
def test_token_endpoints_are_post_only(env, path):
    r = env.get(path)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"


# -- client_credentials with a real OAuth 2 client ------------------------------------------

@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_obtains_uses_and_refreshes_tokens(env, key, module_upstream, method):
    module_upstream.reset()
    session = OAuth2Session(key["id"], key["key"], token_endpoint_auth_method=method, scope="memory:read")
    token = session.fetch_token(env.base + TOKEN, grant_type="client_credentials")
    assert token["token_type"] == "Bearer" and token["scope"] == "memory:read" and token["expires_in"] == 600
    claims = verify_with_published_jwks(env, token["access_token"])
    assert jwt.get_unverified_header(token["access_token"])["typ"] == "at+jwt"
    assert claims["sub"] == "agent-1" and claims["client_id"] == key["id"] and claims["key_id"] == key["id"]
    assert claims["org_id"] == "acme" and claims["scope"] == "memory:read"
    assert claims["exp"] - claims["iat"] == 600 and claims["nbf"] <= claims["iat"] and claims["jti"]

    proxied = session.get(env.base + "/api/memory/x")
    assert proxied.status_code == 200, proxied.text
    doc = proxied.json()
    assert hdr(doc["headers"], "X-Auth-User-Id") == ["agent-1"]
    assert hdr(doc["headers"], "X-Auth-Permissions") == ["memory:read"]
    assert hdr(doc["headers"], "X-Auth-Token-Id") == [claims["jti"]]
    assert not hdr(doc["headers"], "Authorization")
    # Down-scoped: session:read is the key's, not the token's.
    assert session.get(env.base + "/api/sessions/x").status_code == 403

    refreshed = session.refresh_token(env.base + TOKEN, refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"] and refreshed["scope"] == "memory:read"
    assert verify_with_published_jwks(env, refreshed["access_token"])["jti"] != claims["jti"]
    assert session.get(env.base + "/api/memory/x").status_code == 200


@pytest.mark.parametrize("how", ["api-key-header", "bearer", "basic", "body-form", "body-json"])
def test_every_client_authentication_method(env, key, how):
    fields = {"grant_type": "client_credentials"}
    headers, auth, json_body, data = {}, None, None, fields
    if how == "api-key-header":
        headers["X-API-Key"] = key["key"]
    elif how == "bearer":
        headers["Authorization"] = "Bearer " + key["key"]
    elif how == "basic":
        auth = (key["id"], key["key"])
    elif how == "body-form":
        data = {**fields, "client_id": key["id"], "client_secret": key["key"]}
    else:
        json_body, data = {**fields, "client_id": key["id"], "client_secret": key["key"]}, None
    r = env.post(TOKEN, data, headers=headers, auth=auth, json_body=json_body)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Pragma"] == "no-cache"
    doc = r.json()
    assert set(doc) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert doc["scope"] == "memory:read session:read"
    assert doc["refresh_token"].startswith("gwrt.")


def test_basic_credentials_are_form_urlencoded(env):
    """RFC 6749 §2.3.1: id and secret are form-urlencoded before Base64 (keys hold only safe
    characters, so an encoded key must still work)."""
    k = env.new_key()
    encoded = urllib.parse.quote_plus(k["id"]) + ":" + urllib.parse.quote_plus(k["key"])
    r = env.post(TOKEN, {"grant_type": "client_credentials"},
                 headers={"Authorization": "Basic " + base64.b64encode(encoded.encode()).decode()})
    assert r.status_code == 200, r.text


def test_scope_from_roles_is_granted(env):
    k = env.new_key(permissions="", roles="reader", principal="role-agent")
    assert env.exchange(k, scope="session:read")["scope"] == "session:read"


# -- errors (RFC 6749 §5.2) -----------------------------------------------------------------

def test_no_client_authentication_is_invalid_client_without_basic_challenge(env):
    r = env.post(TOKEN, {"grant_type": "client_credentials"})
    assert_oauth_error(r, 401, "invalid_client")
    assert "WWW-Authenticate" not in r.headers


def test_failed_basic_authentication_gets_a_basic_challenge(env, key):
    wrong = key["key"][:-1] + ("y" if key["key"].endswith("x") else "x")   # never the key itself
    r = env.post(TOKEN, {"grant_type": "client_credentials"}, auth=(key["id"], wrong))
    assert_oauth_error(r, 401, "invalid_client")
    assert r.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("bad", ["wrong-secret", "unknown-key", "client-id-mismatch", "garbage"])
def test_bad_client_credentials_are_invalid_client(env, key, bad):
    other = key["key"][:-8] + "AAAAAAAA"
    fields = {"grant_type": "client_credentials", "client_id": key["id"], "client_secret": key["key"]}
    if bad == "wrong-secret":
        fields["client_secret"] = other
    elif bad == "unknown-key":
        fields["client_id"], fields["client_secret"] = "AAAAAAAAAAAA", "gw_AAAAAAAAAAAA_" + "A" * 38
    elif bad == "client-id-mismatch":
        fields["client_id"] = "BBBBBBBBBBBB"
    else:
        fields["client_secret"] = "not a key at all"
    assert_oauth_error(env.post(TOKEN, fields), 401, "invalid_client")


@pytest.mark.parametrize("scope", ["admin:write", "memory:read admin:write", "memory:*", "", "bad\"scope"])
def test_scope_beyond_the_key_is_invalid_scope(env, key, scope):
    r = env.post(TOKEN, {"grant_type": "client_credentials", "scope": scope}, headers={"X-API-Key": key["key"]})
    assert_oauth_error(r, 400, "invalid_scope")


@pytest.mark.parametrize("fields,code", [
    ({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type"),
    ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
    ({}, "invalid_request"),
    ({"grant_type": "refresh_token"}, "invalid_request"),
])
def test_grant_errors(env, key, fields, code):
    assert_oauth_error(env.post(TOKEN, fields, headers={"X-API-Key": key["key"]}), 400, code)


def test_repeated_parameter_is_invalid_request(env, key):
    r = env.post(TOKEN, "grant_type=client_credentials&scope=memory:read&scope=session:read",
                 headers={"X-API-Key": key["key"], "Content-Type": "application/x-www-form-urlencoded"})
    assert_oauth_error(r, 400, "invalid_request")


def test_two_client_authentication_methods_are_invalid_request(env, key):
    r = env.post(TOKEN, {"grant_type": "client_credentials", "client_id": key["id"], "client_secret": key["key"]},
                 auth=(key["id"], key["key"]))
    assert_oauth_error(r, 400, "invalid_request")


@pytest.mark.parametrize("ctype,body", [("text/plain", b"grant_type=client_credentials"),
                                        ("application/json", b"{not json"),
                                        ("application/json", b'{"grant_type": 5}'),
                                        ("application/x-www-form-urlencoded", b"grant_type=%zz")])
def test_unreadable_bodies_are_invalid_request(env, key, ctype, body):
    r = env.post(TOKEN, body, headers={"X-API-Key": key["key"], "Content-Type": ctype})
    assert_oauth_error(r, 400, "invalid_request")


@pytest.mark.parametrize("path", [TOKEN, "/_gateway/revoke"])
def test_oversized_body_is_an_oauth_invalid_request(env, key, path):
    # RFC 6749 §5.2: clients understand its error codes, not the gateway's payload_too_large.
    r = env.post(path, {"grant_type": "client_credentials", "pad": "x" * 20_000}, headers={"X-API-Key": key["key"]})
    assert_oauth_error(r, 400, "invalid_request")
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Pragma"] == "no-cache"


def test_a_client_id_contradicting_basic_credentials_gets_a_basic_challenge(env, key):
    # RFC 6749 §5.2: the client tried Basic, so the 401 says WWW-Authenticate: Basic.
    r = env.post(TOKEN, {"grant_type": "client_credentials", "client_id": "BBBBBBBBBBBB"}, auth=(key["id"], key["key"]))
    assert_oauth_error(r, 401, "invalid_client")
    assert r.headers["WWW-Authenticate"].startswith("Basic ")


def limited_gateway(gateways, upstream_port: int, tmp_path, name: str) -> str:
    """A token service with `auth_failure_limit 3/min burst=3`; returns its base URL."""
    (tmp_path / "es.pem").write_bytes(pem_private(ec.generate_private_key(ec.SECP256R1())))
    body = (upstream_block("u", upstream_port) + tokens_block(tmp_path, keys=("es-1 ES256 es.pem",))
            + f"store sqlite {tmp_path / 'store.db'};\napi_keys {{ }}\nauth_failure_limit 3/min burst=3;\n" + ROUTES)
    return f"http://127.0.0.1:{gateways.new(name).start(body, auth_failure_limit=None).port}"


def test_failed_client_authentication_counts_toward_the_failure_limit(gateways, module_upstream, tmp_path):
    base = limited_gateway(gateways, module_upstream.port, tmp_path, "limited")
    fields = {"grant_type": "client_credentials", "client_id": "AAAAAAAAAAAA", "client_secret": "gw_nope"}
    statuses = [requests.post(base + TOKEN, fields, timeout=5).status_code for _ in range(5)]
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429]
    last = requests.post(base + TOKEN, fields, timeout=5)
    assert last.headers["Retry-After"].isdigit() and last.headers["Cache-Control"] == "no-store"
    # Credentials that cannot even be read are locked out too.
    unreadable = requests.post(base + TOKEN, {"grant_type": "client_credentials"}, timeout=5,
                               headers={"Authorization": "Basic !!!"})
    assert unreadable.status_code == 429


def test_unreadable_client_credentials_count_toward_the_failure_limit(gateways, module_upstream, tmp_path):
    base = limited_gateway(gateways, module_upstream.port, tmp_path, "limited-unreadable")
    for header in ("Basic !!!", "Digest x", "Bearer "):
        r = requests.post(base + TOKEN, {"grant_type": "client_credentials"}, headers={"Authorization": header}, timeout=5)
        assert r.status_code == 401, (header, r.status_code)
    r = requests.post(base + TOKEN, {"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!!"}, timeout=5)
    assert r.status_code == 429 and r.headers["Retry-After"].isdigit()


# -- refresh rotation and reuse detection ---------------------------------------------------

def test_refresh_rotates_and_reuse_revokes_the_family(env):
    k = env.new_key(principal="rotating-agent")
    first = env.exchange(k)
    second = env.refresh(first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    third = env.refresh(second["refresh_token"]).json()
    # The thief replays a used token: invalid, and the whole family ends with it.
    assert_oauth_error(env.refresh(first["refresh_token"]), 400, "invalid_grant")
    assert_oauth_error(env.refresh(third["refresh_token"]), 400, "invalid_grant")
    reuse = env.audit("refresh_reuse")
    assert any(principal == "rotating-agent" and key_id == k["id"] for principal, key_id, _ in reuse)
    # A fresh exchange with the key starts a new family.
    assert env.refresh(env.exchange(k)["refresh_token"]).status_code == 200


@pytest.mark.parametrize("token", ["gwrt.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 43, "gwrt.x.y", "not-a-refresh-token", "a" * 9000])
def test_unknown_refresh_tokens_are_invalid_grant(env, token):
    assert_oauth_error(env.refresh(token), 400, "invalid_grant")


def test_refresh_token_with_a_wrong_secret_is_not_consumed(env, key):
    issued = env.exchange(key)["refresh_token"]
    prefix, token_id, secret = issued.split(".")
    forged = f"{prefix}.{token_id}.{'A' * len(secret)}"
    assert_oauth_error(env.refresh(forged), 400, "invalid_grant")
    assert env.refresh(issued).status_code == 200


def test_refresh_by_another_client_is_refused_and_does_not_consume(env, key):
    other = env.new_key(principal="other-agent")
    issued = env.exchange(key)["refresh_token"]
    r = env.post(TOKEN, {"grant_type": "refresh_token", "refresh_token": issued}, headers={"X-API-Key": other["key"]})
    assert_oauth_error(r, 400, "invalid_grant")
    assert env.post(TOKEN, {"grant_type": "refresh_token", "refresh_token": issued},
                    auth=(key["id"], key["key"])).status_code == 200


def test_refresh_keeps_the_down_scoped_scope(env, key):
    first = env.exchange(key, scope="session:read")
    second = env.refresh(first["refresh_token"]).json()
    assert second["scope"] == "session:read"
    assert verify_with_published_jwks(env, second["access_token"])["scope"] == "session:read"


def test_token_issuance_is_audited(env):
    k = env.new_key(principal="audited-agent")
    env.exchange(k)
    rows = wait_until(lambda: [r for r in env.audit("token_issued") if r[0] == "audited-agent"], timeout=3,
                      message="the token_issued audit row")
    assert rows[0][1] == k["id"] and rows[0][2] == "client_credentials"
    with sqlite3.connect(env.db) as db:
        text = "\n".join(str(row) for row in db.execute("SELECT * FROM audit_events"))
    assert k["key"] not in text and "gwrt." not in text


# -- revocation ----------------------------------------------------------------------------

def test_revoking_a_refresh_token_ends_its_family(env, key):
    first = env.exchange(key)
    second = env.refresh(first["refresh_token"]).json()
    r = env.post(REVOKE, {"token": second["refresh_token"]})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert_oauth_error(env.refresh(second["refresh_token"]), 400, "invalid_grant")


def test_revoking_an_access_token_stops_it_on_every_loop(env, key):
    issued = env.exchange(key)
    assert env.get("/api/memory/x", issued["access_token"]).status_code == 200
    assert env.post(REVOKE, {"token": issued["access_token"], "token_type_hint": "access_token"}).status_code == 200
    # Two workers: every connection (and so every loop) refuses it within a second or so.
    wait_until(lambda: all(env.get("/api/memory/x", issued["access_token"]).status_code == 401 for _ in range(6)),
               timeout=3, message="the revoked access token is refused")


@pytest.mark.parametrize("token", ["unknown", "eyJhbGciOiJub25lIn0.e30.", "gwrt.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 43])
def test_revoking_an_unknown_token_is_200(env, token):
    assert env.post(REVOKE, {"token": token}).status_code == 200


def test_revoke_without_token_is_invalid_request(env):
    assert_oauth_error(env.post(REVOKE, {"token_type_hint": "refresh_token"}), 400, "invalid_request")


def test_revoking_the_key_ends_its_tokens(env):
    k = env.new_key(principal="doomed-agent")
    issued = env.exchange(k)
    assert env.get("/api/memory/x", issued["access_token"]).status_code == 200
    r = env.cli("keys", "revoke", k["id"])
    assert r.returncode == 0, r.stderr
    wait_until(lambda: all(env.get("/api/memory/x", issued["access_token"]).status_code == 401 for _ in range(6)),
               timeout=3, message="tokens of the revoked key are refused")
    assert_oauth_error(env.refresh(issued["refresh_token"]), 400, "invalid_grant")


# -- framing --------------------------------------------------------------------------------

def test_body_arriving_slowly_and_pipelined_requests(env, key):
    body = f"grant_type=client_credentials&client_id={key['id']}&client_secret={key['key']}".encode()
    head = (f"POST {TOKEN} HTTP/1.1\r\nHost: gateway.test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with Conn(env.gw.port) as c:
        c.send(head + body[:10])
        time.sleep(0.3)
        # The rest of the body, then a second request pipelined behind the first.
        c.send(body[10:] + b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: gateway.test\r\n\r\n")
        first = c.read_response("POST")
        second = c.read_response("GET")
    assert first.status == 200 and "access_token" in first.json()
    assert second.status == 200 and "keys" in second.json()


def test_expect_100_continue_is_answered_before_the_body(env, key):
    body = f"grant_type=client_credentials&client_id={key['id']}&client_secret={key['key']}".encode()
    with Conn(env.gw.port) as c:
        c.send((f"POST {TOKEN} HTTP/1.1\r\nHost: gateway.test\r\nExpect: 100-continue\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n").encode())
        assert c.read_until(b"\r\n\r\n").startswith(b"HTTP/1.1 100 Continue\r\n")
        c.send(body)
        r = c.read_response("POST")
    assert r.status == 200 and "access_token" in r.json()


def test_chunked_token_request_is_refused_and_closed(env, key):
    with Conn(env.gw.port) as c:
        c.send(f"POST {TOKEN} HTTP/1.1\r\nHost: gateway.test\r\nTransfer-Encoding: chunked\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\n\r\n5\r\nab=cd\r\n0\r\n\r\n".encode())
        r = c.read_response("POST")
        assert r.status == 400 and r.json()["error"] == "invalid_request"
        assert c.wait_closed()


# -- signing-key rotation ------------------------------------------------------------------

def test_signing_key_rotation_never_breaks_a_verifier(gateways, module_upstream, gateway_bin, tmp_path):
    """The documented procedure: (1) publish the next key as a second `signing_key` (verify only);
    (2) after verifiers refreshed their JWKS, move it first (it signs, the old one verifies);
    (3) after the longest access_ttl, drop the old one. Tokens from either key work throughout."""
    (tmp_path / "old.pem").write_bytes(pem_private(ec.generate_private_key(ec.SECP256R1())))
    (tmp_path / "new.pem").write_bytes(pem_private(ec.generate_private_key(ec.SECP256R1())))
    db = tmp_path / "store.db"

    def body(*keys):
        return (upstream_block("u", module_upstream.port) + tokens_block(tmp_path, keys=keys)
                + f"store sqlite {db};\napi_keys {{ }}\n" + ROUTES)

    gw = gateways.new("rotation").start(body("old ES256 old.pem"))
    env = Env(gw, gateway_bin, db)
    k = env.new_key()
    old_token = env.exchange(k)["access_token"]

    def published():
        return {key["kid"] for key in env.jwks()["keys"]}

    gw.reload(body("old ES256 old.pem", "new ES256 new.pem"))
    wait_until(lambda: published() == {"old", "new"}, timeout=5, message="the next key is published")
    assert jwt.get_unverified_header(env.exchange(k)["access_token"])["kid"] == "old"

    gw.reload(body("new ES256 new.pem", "old ES256 old.pem"))
    wait_until(lambda: jwt.get_unverified_header(env.exchange(k)["access_token"])["kid"] == "new", timeout=5,
               message="the new key signs")
    new_token = env.exchange(k)["access_token"]
    for token in (old_token, new_token):
        assert env.get("/api/memory/x", token).status_code == 200
        verify_with_published_jwks(env, token)

    gw.reload(body("new ES256 new.pem"))
    wait_until(lambda: published() == {"new"}, timeout=5, message="the old key is dropped")
    assert env.get("/api/memory/x", old_token).status_code == 401
    assert env.get("/api/memory/x", new_token).status_code == 200
