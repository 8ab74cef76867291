"""SPEC §2/§8/§10 (the parts that belong to authentication): the `tokens` block, `token issue`
and `jwks`, the gateway accepting its own tokens, `identity_token on` (X-Auth-Identity),
`allow_query_token on`, and `jti` revocation from the store. Tokens and JWKS are checked with
PyJWT + cryptography (an implementation independent of ours)."""

import json
import sqlite3
import time

import pytest

jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: E402

from conftest import assert_error, echo, hdr, run_cli, upstream_block, wait_until  # noqa: E402

ISS, AUD = "https://gateway.test", "agent-api"


def pem_private(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture(scope="module")
def signing(tmp_path_factory):
    d = tmp_path_factory.mktemp("signing")
    current = ec.generate_private_key(ec.SECP256R1())
    previous = ed25519.Ed25519PrivateKey.generate()
    (d / "es.pem").write_bytes(pem_private(current))
    (d / "ed.pem").write_bytes(pem_private(previous))
    return {"dir": d, "current": current, "previous": previous}


def tokens_block(signing) -> str:
    d = signing["dir"]
    return (f"tokens {{\n    signing_key es-1 ES256 file:{d / 'es.pem'};\n    signing_key ed-0 EdDSA file:{d / 'ed.pem'};\n"
            f"    issuer {ISS};\n    audience {AUD};\n    access_ttl 10m;\n}}\n")


@pytest.fixture(scope="module")
def gw(module_gateways, module_upstream, signing):
    db = signing["dir"] / "store.db"
    body = (upstream_block("u", module_upstream.port)
            + tokens_block(signing)
            + f"store sqlite {db};\napi_keys {{ }}\n"
            "route /api/** { upstream u; }\n"
            "route /signed/** { upstream u; identity_token on; }\n"
            "route /live/** { upstream u; allow_query_token on; }\n")
    g = module_gateways.new("tokens").start(body, access_log="stdout")
    g.db = db
    return g


@pytest.fixture
def up(module_upstream):
    module_upstream.reset()
    return module_upstream


def cli(gateway_bin, gw, *args):
    return run_cli(gateway_bin, *args, "--config", str(gw.config_path), cwd=gw.dir)


def issue(gateway_bin, gw, *extra) -> str:
    r = cli(gateway_bin, gw, "token", "issue", "--sub", "agent-7", "--permissions", "memory:read,session:read",
            "--org", "acme", *extra)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def jwks(gateway_bin, gw) -> dict:
    r = cli(gateway_bin, gw, "jwks")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def until_ok(call):
    """The echo document of the first 200 from `call` (a new key is live within a second)."""
    return wait_until(lambda: (lambda resp: resp.status == 200 and resp.json())(call()), timeout=3,
                      message="the new key works")


def bearer(gw, token, path="/api/me", extra=()):
    return gw.request("GET", path, headers=[("Authorization", "Bearer " + token), *extra])


# -- CLI ------------------------------------------------------------------------------------

def test_jwks_lists_every_public_key_and_no_secret(gateway_bin, gw, signing):
    doc = jwks(gateway_bin, gw)
    by_kid = {k["kid"]: k for k in doc["keys"]}
    assert set(by_kid) == {"es-1", "ed-0"}
    assert by_kid["es-1"]["alg"] == "ES256" and by_kid["es-1"]["kty"] == "EC" and by_kid["es-1"]["crv"] == "P-256"
    assert by_kid["ed-0"]["alg"] == "EdDSA" and by_kid["ed-0"]["crv"] == "Ed25519"
    for key in doc["keys"]:
        assert "d" not in key and key["use"] == "sig"
    numbers = signing["current"].public_key().public_numbers()
    assert jwt.PyJWK(by_kid["es-1"]).key.public_numbers() == numbers


def test_token_issue_verifies_with_pyjwt(gateway_bin, gw):
    token = issue(gateway_bin, gw, "--ttl", "90s")
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "typ": "at+jwt", "kid": "es-1"}
    key = jwt.PyJWK(next(k for k in jwks(gateway_bin, gw)["keys"] if k["kid"] == "es-1"))
    claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=AUD, issuer=ISS)
    assert claims["sub"] == "agent-7" and claims["scope"] == "memory:read session:read" and claims["org_id"] == "acme"
    assert claims["exp"] - claims["iat"] == 90 and claims["jti"] and claims["client_id"] == "agent-7"


@pytest.mark.parametrize("args", [["token", "issue"], ["token", "issue", "--sub", "x", "--ttl", "soon"],
                                  ["token", "issue", "--sub", "x", "--permissions", "a b"], ["token", "frob"]])
def test_token_issue_usage_errors(gateway_bin, gw, args):
    r = cli(gateway_bin, gw, *args)
    assert r.returncode == 2, r
    assert r.stderr.strip() and len(r.stderr.strip().splitlines()) == 1


def test_token_commands_need_a_tokens_block(gateway_bin, tmp_path):
    conf = tmp_path / "g.conf"
    conf.write_text("route / { public; respond 200; }\n")
    for args in (["token", "issue", "--sub", "x"], ["jwks"]):
        r = run_cli(gateway_bin, *args, "--config", str(conf))
        assert r.returncode == 2 and "tokens" in r.stderr, r


def test_hmac_secret_is_never_printed(gateway_bin, tmp_path):
    conf = tmp_path / "g.conf"
    conf.write_text("tokens {\n    signing_key hs HS256 env:S;\n    issuer i;\n    audience a;\n}\n")
    secret = "s3cr3t-" + "x" * 40
    r = run_cli(gateway_bin, "jwks", "--config", str(conf), env={"S": secret})
    assert r.returncode == 0 and json.loads(r.stdout) == {"keys": []}, r
    r = run_cli(gateway_bin, "token", "issue", "--sub", "x", "--config", str(conf), env={"S": secret})
    assert r.returncode == 0 and secret not in r.stdout + r.stderr
    assert jwt.decode(r.stdout.strip(), secret, algorithms=["HS256"], audience="a")["sub"] == "x"


# -- the gateway accepts its own tokens -----------------------------------------------------

def test_own_token_is_accepted_with_its_identity(gateway_bin, gw, up):
    doc = echo(bearer(gw, issue(gateway_bin, gw)))
    h = doc["headers"]
    assert hdr(h, "X-Auth-User-Id") == ["agent-7"] and hdr(h, "X-Auth-Org-Id") == ["acme"]
    assert hdr(h, "X-Auth-Permissions") == ["memory:read,session:read"] and hdr(h, "X-Auth-Method") == ["jwt"]
    assert hdr(h, "Authorization") == []


def own_claims(**over):
    now = int(time.time())
    c = {"iss": ISS, "aud": AUD, "sub": "bob", "iat": now, "exp": now + 300, "jti": "j-" + str(time.monotonic_ns())}
    c.update(over)
    return c


def test_token_from_the_previous_signing_key_is_accepted(gw, up, signing):
    token = jwt.encode(own_claims(), signing["previous"], algorithm="EdDSA", headers={"kid": "ed-0", "typ": "at+jwt"})
    assert hdr(echo(bearer(gw, token))["headers"], "X-Auth-User-Id") == ["bob"]


@pytest.mark.parametrize("case", ["no_typ", "other_typ", "wrong_aud", "wrong_kid_alg"])
def test_own_issuer_rejections(gw, up, signing, case):
    headers = {"kid": "es-1", "typ": "at+jwt"}
    claims = own_claims()
    key, alg = signing["current"], "ES256"
    if case == "no_typ":
        headers.pop("typ")
    elif case == "other_typ":
        headers["typ"] = "JWT"
    elif case == "wrong_aud":
        claims["aud"] = "someone-else"
    elif case == "wrong_kid_alg":
        headers["kid"] = "ed-0"
    assert_error(bearer(gw, jwt.encode(claims, key, algorithm=alg, headers=headers)), 401, "invalid_token")
    assert up.requests == []


# -- identity_token on ----------------------------------------------------------------------

def test_identity_token_reaches_the_upstream_and_verifies(gateway_bin, gw, up):
    resp = bearer(gw, issue(gateway_bin, gw), path="/signed/x", extra=[("X-Auth-Identity", "forged")])
    values = hdr(echo(resp)["headers"], "X-Auth-Identity")
    assert len(values) == 1 and values[0] != "forged"
    token = values[0]
    assert jwt.get_unverified_header(token)["typ"] == "gateway-identity+jwt"
    key = jwt.PyJWK(next(k for k in jwks(gateway_bin, gw)["keys"] if k["kid"] == "es-1"))
    claims = jwt.decode(token, key.key, algorithms=["ES256"], audience="u", issuer=ISS)
    assert claims["sub"] == "agent-7" and claims["org_id"] == "acme" and claims["auth_method"] == "jwt"
    assert claims["permissions"] == ["memory:read", "session:read"]
    assert 0 < claims["exp"] - claims["iat"] <= 60


def test_identity_token_is_not_a_credential(gateway_bin, gw, up):
    token = hdr(echo(bearer(gw, issue(gateway_bin, gw), path="/signed/x"))["headers"], "X-Auth-Identity")[0]
    up.reset()
    assert_error(bearer(gw, token), 401, "invalid_token")
    assert up.requests == []


def test_identity_token_only_where_configured(gateway_bin, gw, up):
    h = echo(bearer(gw, issue(gateway_bin, gw), extra=[("X-Auth-Identity", "forged")]))["headers"]
    assert hdr(h, "X-Auth-Identity") == []


def test_identity_token_for_api_key_callers(gateway_bin, gw, up):
    r = cli(gateway_bin, gw, "keys", "create", "--name", "it", "--principal", "svc-1", "--json")
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)["key"]
    doc = until_ok(lambda: gw.request("GET", "/signed/y", headers=[("X-API-Key", key)]))
    token = hdr(doc["headers"], "X-Auth-Identity")[0]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "svc-1" and claims["auth_method"] == "api_key" and claims["key_id"] == json.loads(r.stdout)["id"]


# -- allow_query_token on -------------------------------------------------------------------

def test_query_token_is_accepted_and_removed(gateway_bin, gw, up):
    token = issue(gateway_bin, gw)
    doc = echo(gw.request("GET", f"/live/chat?room=1&access_token={token}&x=%20y"))
    assert hdr(doc["headers"], "X-Auth-User-Id") == ["agent-7"]
    assert doc["query"] == "room=1&x=%20y"
    assert token not in json.dumps(doc)
    assert token not in gw.stdout_text(), "the query token reached the access log"


def test_query_token_only_parameter(gateway_bin, gw, up):
    doc = echo(gw.request("GET", f"/live/chat?access_token={issue(gateway_bin, gw)}"))
    assert doc["target"] == "/live/chat"


def test_query_api_key(gateway_bin, gw, up):
    r = cli(gateway_bin, gw, "keys", "create", "--name", "q", "--principal", "svc-q", "--json")
    key = json.loads(r.stdout)["key"]
    doc = until_ok(lambda: gw.request("GET", f"/live/s?access_token={key}"))
    assert hdr(doc["headers"], "X-Auth-User-Id") == ["svc-q"] and key not in json.dumps(doc)


def test_query_token_and_header_is_ambiguous(gateway_bin, gw, up):
    token = issue(gateway_bin, gw)
    assert_error(bearer(gw, token, path=f"/live/x?access_token={token}"), 400, "invalid_request")
    assert_error(gw.request("GET", f"/live/x?access_token={token}&access_token={token}"), 400, "invalid_request")
    assert up.requests == []


def test_bad_query_token_is_invalid_token(gw, up):
    assert_error(gw.request("GET", "/live/x?access_token=not.a.token"), 401, "invalid_token")
    assert_error(gw.request("GET", "/live/x?access_token="), 401, "invalid_token")
    assert_error(gw.request("GET", "/live/x?access_token=%zz"), 401, "invalid_token")
    assert up.requests == []


def test_query_token_ignored_where_not_allowed(gateway_bin, gw, up):
    resp = gw.request("GET", f"/api/x?access_token={issue(gateway_bin, gw)}")
    assert_error(resp, 401, "unauthorized")
    assert resp.header("WWW-Authenticate") == 'Bearer realm="gateway"'


# -- jti revocation -------------------------------------------------------------------------

def test_revoked_jti_is_refused_within_a_second(gateway_bin, gw, up):
    token = issue(gateway_bin, gw)
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    assert bearer(gw, token).status == 200          # verified and cached
    with sqlite3.connect(gw.db, timeout=5) as db:
        db.execute("INSERT INTO revoked_tokens(jti, expires_at) VALUES (?, ?)", (jti, int(time.time()) + 600))
        db.execute("UPDATE store_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'change_counter'")
    started = time.monotonic()
    wait_until(lambda: bearer(gw, token).status == 401, timeout=3, interval=0.05, message="revocation takes effect")
    assert time.monotonic() - started < 1.0
    assert bearer(gw, issue(gateway_bin, gw)).status == 200   # other tokens are unaffected
