"""Regression tests for authentication defects found by an independent review (SPEC §5-§8).

1. A per-connection credential memo must not let a credential accepted as one kind (API key
   header) pass as another kind (bearer JWT) on the same keep-alive connection, or vice versa.
2. Identity values reach the upstream exactly (UTF-8 byte for byte); values no header can carry
   exactly (control characters, leading/trailing whitespace) are refused with 401, never
   cleaned into another principal's value; a permission or role holding `,` or whitespace is
   refused rather than forwarded as two. `identity_token` carries the exact subject.
3. `match_claim` compares the claim with the percent-decoded path segment.
4. JWT rate-limit buckets are per issuer + subject, not per subject alone.
5. JWKS documents as real identity providers publish them (Keycloak: an `enc` key next to the
   `sig` key, `x5c`/`x5t` members; `oct` keys; unknown `kty`) are accepted, the unusable keys
   skipped; a document with no usable signing key still leaves tokens refused.

Tokens are minted with PyJWT (or hand-built HS256 where PyJWT's JSON would escape the bytes
under test); API keys come from the real CLI."""

import base64
import datetime
import hashlib
import hmac
import json
import time

import pytest

jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from jwt.algorithms import RSAAlgorithm  # noqa: E402

from conftest import assert_error, echo, hdr, run_cli, upstream_block  # noqa: E402
from test_jwks_url import JWKSServer  # noqa: E402

SECRET = "review-secret-0123456789abcdef0123456789"
ISS, AUD = "https://idp.review.test", "agent-api"
OWN_ISS = "https://gateway.review.test"


# -- helpers -------------------------------------------------------------------------------------

def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**over):
    now = int(time.time())
    c = {"iss": ISS, "aud": AUD, "sub": "user-1", "iat": now, "exp": now + 600}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def hs256(payload: dict, secret: str = SECRET, raw_utf8: bool = False) -> str:
    """An HS256 JWT; with raw_utf8 the payload JSON carries non-ASCII as raw UTF-8 bytes
    instead of \\u escapes (both are valid JSON)."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=not raw_utf8).encode("utf-8"))
    sig = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(sig)}"


def bearer(token: str):
    return [("Authorization", "Bearer " + token)]


def raw_header(record: dict, name: str) -> list[bytes]:
    """The upstream's raw bytes of every `name` header (it decodes each byte as latin-1)."""
    return [v.encode("latin-1") for n, v in record["headers"] if n.lower() == name.lower()]


def pem_private(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


# -- the main gateway: API keys (bearer off), one JWT issuer, own tokens, identity_token ------------

@pytest.fixture(scope="module")
def env(module_gateways, module_upstream, gateway_bin, tmp_path_factory):
    d = tmp_path_factory.mktemp("review")
    signing = ec.generate_private_key(ec.SECP256R1())
    (d / "es.pem").write_bytes(pem_private(signing))
    gw = module_gateways.new("review")
    body = (upstream_block("u", module_upstream.port)
            + f"store sqlite {d / 'gateway.db'};\n"
            "api_keys { header X-API-Key; bearer off; prefix gw_; }\n"
            f"jwt {{\n    issuer {ISS};\n    audience {AUD};\n    key hs HS256 env:REVIEW_SECRET;\n    cache 0;\n}}\n"
            f"tokens {{\n    signing_key es-1 ES256 file:{d / 'es.pem'};\n    issuer {OWN_ISS};\n    audience {AUD};\n}}\n"
            "roles {\n    reader memory:read;\n}\n"
            "route /api/** { upstream u; }\n"
            "route /keys-only/** { auth api_key; upstream u; }\n"
            "route /jwt-only/** { auth jwt; upstream u; }\n"
            "route /signed/** { identity_token on; upstream u; }\n"
            "route /orgs/{org}/** { match_claim org_id {org}; upstream u; }\n")
    gw.write_config(gw.config(body))
    r = run_cli(gateway_bin, "keys", "create", "--name", "review", "--principal", "alice", "--json",
                "--config", str(gw.config_path), env={"REVIEW_SECRET": SECRET})
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)["key"]
    gw.start(raw_config=gw.config_path.read_text(), env={"REVIEW_SECRET": SECRET})
    return gw, key


@pytest.fixture
def up(module_upstream):
    module_upstream.reset()
    return module_upstream


# -- 1. credential memo bypass on one keep-alive connection ----------------------------------------

def test_api_key_header_then_same_key_as_bearer_on_jwt_route_is_refused(env, up):
    """Defect: the per-connection credential memo matched the credential text alone, so a key
    accepted from X-API-Key was then accepted as `Authorization: Bearer <key>` on an `auth jwt;`
    route (forwarded with X-Auth-Method: api_key). With `bearer off` that bearer token is a JWT,
    and not a valid one: 401. The kind of credential must be part of the memo."""
    gw, key = env
    with gw.connect() as conn:
        first = conn.request("GET", "/keys-only/a", headers=[("X-API-Key", key)])
        assert hdr(echo(first)["headers"], "X-Auth-Method") == ["api_key"]
        second = conn.request("GET", "/jwt-only/b", headers=bearer(key))
        assert_error(second, 401, "invalid_token")
    assert len(up.requests) == 1, [r["target"] for r in up.requests]


def test_jwt_as_bearer_then_same_jwt_in_api_key_header_is_refused(env, up):
    """Defect (reverse direction of the memo bypass): a JWT accepted as a bearer token on an
    `auth jwt;` route must not pass on an `auth api_key;` route when sent in X-API-Key on the
    same connection: it is not an API key."""
    gw, _ = env
    token = hs256(claims(sub="memo-user"))
    with gw.connect() as conn:
        first = conn.request("GET", "/jwt-only/a", headers=bearer(token))
        assert hdr(echo(first)["headers"], "X-Auth-Method") == ["jwt"]
        second = conn.request("GET", "/keys-only/b", headers=[("X-API-Key", token)])
        assert_error(second, 401, "invalid_token")
    assert len(up.requests) == 1, [r["target"] for r in up.requests]


def test_bearer_off_api_key_header_then_same_key_as_bearer_is_refused(env, up):
    """Defect: with `api_keys { bearer off; }` a bearer token is always a JWT; the memo let a key
    first accepted from X-API-Key through as `Authorization: Bearer <key>` on a default route
    (both methods accepted) on the same connection. The key is not a JWT: 401."""
    gw, key = env
    with gw.connect() as conn:
        first = conn.request("GET", "/api/a", headers=[("X-API-Key", key)])
        assert hdr(echo(first)["headers"], "X-Auth-User-Id") == ["alice"]
        assert_error(conn.request("GET", "/api/b", headers=bearer(key)), 401, "invalid_token")
    assert len(up.requests) == 1, [r["target"] for r in up.requests]


# -- 2. identity values are exact -----------------------------------------------------------------

@pytest.mark.parametrize("raw_utf8", [False, True], ids=["escaped-json", "raw-utf8-json"])
def test_utf8_name_reaches_upstream_byte_for_byte(env, up, raw_utf8):
    """Defect: non-ASCII claim values were not forwarded as their UTF-8 bytes. SPEC §8: "UTF-8
    is forwarded byte for byte (names like `José` must work)"."""
    gw, _ = env
    name = "José Ñúñez"
    resp = gw.request("GET", "/api/me", headers=bearer(hs256(claims(sub="jose", name=name), raw_utf8=raw_utf8)))
    assert resp.status == 200, resp
    assert raw_header(up.last, "X-Auth-Name") == [name.encode("utf-8")]
    assert raw_header(up.last, "X-Auth-User-Id") == [b"jose"]


def test_invisible_character_in_sub_is_forwarded_exactly(env, up):
    """Defect: a subject with an invisible character ("adm\\u200bin") must reach the upstream as
    exactly its UTF-8 bytes, never cleaned into another principal ("admin")."""
    gw, _ = env
    sub = "adm\u200bin"
    resp = gw.request("GET", "/api/me", headers=bearer(hs256(claims(sub=sub))))
    assert resp.status == 200, resp
    assert raw_header(up.last, "X-Auth-User-Id") == [sub.encode("utf-8")]


REFUSED_IDENTITIES = {
    "sub with NUL": {"sub": "ad\u0000min"},
    "sub with trailing tab": {"sub": "admin\t"},
    "sub with surrounding spaces": {"sub": " admin "},
    "sub with leading no-break space": {"sub": "\u00a0admin"},
    "sub with trailing ideographic space": {"sub": "admin\u3000"},
    "sub with newline": {"sub": "ad\nmin"},
    "name with control character": {"sub": "user-1", "name": "Jos\u0007e"},
    "permission with comma": {"permissions": ["read,admin:write"]},
    "permission with space": {"permissions": ["a b"]},
    "role with comma": {"roles": ["reader,admin"]},
}


@pytest.mark.parametrize("case", list(REFUSED_IDENTITIES))
def test_identity_value_no_header_can_carry_is_refused(env, up, case):
    """Defect: identity values with control characters or leading/trailing (Unicode) whitespace
    were cleaned (trimmed, stripped) into another principal's value, and a permission or role
    containing `,` or whitespace was forwarded as two. SPEC §8 (the gateway's README chooses
    refusal): 401 invalid_token, nothing forwarded."""
    gw, _ = env
    resp = gw.request("GET", "/api/me", headers=bearer(hs256(claims(**REFUSED_IDENTITIES[case]))))
    assert_error(resp, 401, "invalid_token")
    assert up.requests == [], [r["headers"] for r in up.requests]


def test_identity_token_subject_is_exact(env, up):
    """Defect: the X-Auth-Identity token carried a cleaned subject, so "adm\\u200bin" and
    "admin" got identity tokens with the same `sub`."""
    gw, _ = env
    subs = {}
    for sub in ("admin", "adm\u200bin"):
        doc = echo(gw.request("GET", "/signed/x", headers=bearer(hs256(claims(sub=sub)))))
        values = hdr(doc["headers"], "X-Auth-Identity")
        assert len(values) == 1, doc["headers"]
        subs[sub] = jwt.decode(values[0], options={"verify_signature": False})["sub"]
    assert subs["admin"] == "admin"
    assert subs["adm\u200bin"] == "adm\u200bin"
    assert subs["admin"] != subs["adm\u200bin"]


# -- 3. match_claim against the percent-decoded segment --------------------------------------------

def test_match_claim_compares_the_decoded_segment(env, up):
    """Defect: match_claim compared the claim with the raw (percent-encoded) path segment, so
    org_id "acme corp" was denied on /orgs/acme%20corp/x and org_id "acme%20corp" allowed."""
    gw, _ = env
    resp = gw.request("GET", "/orgs/acme%20corp/x", headers=bearer(hs256(claims(org_id="acme corp"))))
    assert resp.status == 200, resp
    up.reset()
    resp = gw.request("GET", "/orgs/acme%20corp/x", headers=bearer(hs256(claims(org_id="acme%20corp"))))
    assert_error(resp, 403, "access_denied")
    assert up.requests == []


# -- 4. rate-limit buckets per issuer + subject ----------------------------------------------------

def test_rate_limit_bucket_is_per_issuer_and_subject(gateways, upstream):
    """Defect: JWT rate-limit buckets were keyed by `sub` alone, so issuer A's "u1" spent the
    bucket of issuer B's unrelated "u1". SPEC §7: issuer + subject."""
    secret_b = "review-secret-B-0123456789abcdef012345"
    iss_a, iss_b = "https://idp-a.review.test", "https://idp-b.review.test"
    gw = gateways.start(
        upstream_block("u", upstream.port)
        + f"jwt {{\n    issuer {iss_a};\n    audience {AUD};\n    key ka HS256 env:SECRET_A;\n}}\n"
        f"jwt {{\n    issuer {iss_b};\n    audience {AUD};\n    key kb HS256 env:SECRET_B;\n}}\n"
        "route /limited/** {\n    rate_limit 2/min burst=2;\n    upstream u;\n}\n",
        env={"SECRET_A": SECRET, "SECRET_B": secret_b})
    tok_a = hs256(claims(iss=iss_a, sub="u1"), SECRET)
    tok_b = hs256(claims(iss=iss_b, sub="u1"), secret_b)
    statuses = [gw.request("GET", "/limited/x", headers=bearer(tok_a)).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    resp = gw.request("GET", "/limited/x", headers=bearer(tok_b))
    assert resp.status == 200, resp


# -- 5. JWKS documents from real identity providers -----------------------------------------------

def self_signed(key, cn: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))


def rsa_jwk(key, kid: str, use: str, alg: str, with_x5c: bool = True) -> dict:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, use=use, alg=alg)
    if with_x5c:  # Keycloak publishes the certificate and its thumbprints with every key
        der = self_signed(key, "review-realm").public_bytes(serialization.Encoding.DER)
        jwk["x5c"] = [base64.b64encode(der).decode()]
        jwk["x5t"] = b64(hashlib.sha1(der).digest())
        jwk["x5t#S256"] = b64(hashlib.sha256(der).digest())
    return jwk


@pytest.fixture(scope="module")
def rsa_keys():
    return {name: rsa.generate_private_key(public_exponent=65537, key_size=2048) for name in ("sig", "enc")}


@pytest.fixture
def jwks_server():
    server = JWKSServer().start()
    yield server
    server.stop()


def jwks_gateway(gateways, upstream, url):
    return gateways.start(upstream_block("u", upstream.port)
                          + f"jwt {{\n    issuer {ISS};\n    audience {AUD};\n    jwks_url {url};\n    cache 0;\n}}\n"
                          + "route /api/** { upstream u; }\n")


def rs256(key, kid: str) -> str:
    return jwt.encode(claims(sub="kc-user"), key, algorithm="RS256", headers={"kid": kid})


def test_keycloak_shaped_jwks_is_accepted(gateways, upstream, rsa_keys, jwks_server):
    """Guard for the JWKS fix: a Keycloak JWKS (an RS256 `use: sig` key next to an RSA-OAEP
    `use: enc` key, both with x5c/x5t/x5t#S256) must keep working when unusable keys are skipped
    instead of refused (SPEC §5). The old gateway already skipped `use: enc`, so this passes
    there too; the `enc` key must never verify a signature."""
    jwks_server.document = {"keys": [
        rsa_jwk(rsa_keys["enc"], "kc-enc", "enc", "RSA-OAEP"),
        rsa_jwk(rsa_keys["sig"], "kc-sig", "sig", "RS256"),
    ]}
    gw = jwks_gateway(gateways, upstream, jwks_server.url)
    doc = echo(gw.request("GET", "/api/me", headers=bearer(rs256(rsa_keys["sig"], "kc-sig")), timeout=15))
    assert hdr(doc["headers"], "X-Auth-User-Id") == ["kc-user"]
    # The encryption key is skipped, not used for signatures.
    assert_error(gw.request("GET", "/api/me", headers=bearer(rs256(rsa_keys["enc"], "kc-enc")), timeout=15),
                 401, "invalid_token")


def test_jwks_with_oct_and_unknown_kty_keys_uses_the_usable_key(gateways, upstream, rsa_keys, jwks_server):
    """Defect: one `oct` key or a key with an unknown `kty` made the whole JWKS document be
    refused, so tokens signed by its usable RS256 key got 401."""
    jwks_server.document = {"keys": [
        {"kty": "oct", "kid": "shared", "k": b64(b"s" * 32), "alg": "HS256"},
        {"kty": "foo", "kid": "future", "use": "sig", "bar": "baz"},
        rsa_jwk(rsa_keys["sig"], "rs-1", "sig", "RS256", with_x5c=False),
    ]}
    gw = jwks_gateway(gateways, upstream, jwks_server.url)
    doc = echo(gw.request("GET", "/api/me", headers=bearer(rs256(rsa_keys["sig"], "rs-1")), timeout=15))
    assert hdr(doc["headers"], "X-Auth-User-Id") == ["kc-user"]
    # The skipped oct key is never an HMAC verification key.
    token = jwt.encode(claims(), "s" * 32, algorithm="HS256", headers={"kid": "shared"})
    resp = gw.request("GET", "/api/me", headers=bearer(token), timeout=15)
    assert_error(resp, 401, "invalid_token")


def test_jwks_with_no_usable_signing_key_still_refuses_tokens(gateways, upstream, rsa_keys, jwks_server):
    """Guard for the fix above: a document holding only unusable keys (`use: enc`, `oct`) gives
    no key; tokens signed with those keys stay refused (401)."""
    jwks_server.document = {"keys": [
        rsa_jwk(rsa_keys["enc"], "kc-enc", "enc", "RSA-OAEP"),
        {"kty": "oct", "kid": "shared", "k": b64(b"s" * 32), "alg": "HS256"},
    ]}
    gw = jwks_gateway(gateways, upstream, jwks_server.url)
    for token in (rs256(rsa_keys["enc"], "kc-enc"),
                  jwt.encode(claims(), "s" * 32, algorithm="HS256", headers={"kid": "shared"})):
        assert_error(gw.request("GET", "/api/me", headers=bearer(token), timeout=15), 401, "invalid_token")
    assert upstream.requests == []
