"""SPEC §5 JWT authentication with tokens minted by an independent implementation (PyJWT +
cryptography): every algorithm family, identity upstream, and each rejection class."""

import base64
import hashlib
import hmac
import json
import time

import pytest

jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: E402

from conftest import assert_error, echo, hdr, run_cli, upstream_block  # noqa: E402

SECRET = "test-secret-0123456789abcdef0123456789"
ISS, AUD = "https://idp.test", "agent-api"


def pem_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("jwtkeys")
    made = {
        "rs": ("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "ps": ("PS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "es": ("ES256", ec.generate_private_key(ec.SECP256R1())),
        "es384": ("ES384", ec.generate_private_key(ec.SECP384R1())),
        "ed": ("EdDSA", ed25519.Ed25519PrivateKey.generate()),
    }
    paths = {}
    for kid, (_, key) in made.items():
        path = d / f"{kid}.pub.pem"
        path.write_bytes(pem_public(key))
        paths[kid] = path
    return made, paths, d


@pytest.fixture(scope="module")
def gw(module_gateways, module_upstream, keys):
    made, paths, _ = keys
    lines = "\n".join(f"    key {kid} {alg} file:{paths[kid]};" for kid, (alg, _) in made.items())
    body = (upstream_block("u", module_upstream.port)
            + f"jwt {{\n    issuer {ISS};\n    audience {AUD} other-api;\n    key hs HS256 env:TEST_JWT_SECRET;\n{lines}\n"
              "    leeway 5s;\n    claims permissions=permissions,scope;\n}\n"
              "route /api/** { upstream u; }\n"
              "route /keys-only/** { auth api_key; upstream u; }\n"
              "route /jwt-only/** { auth jwt; upstream u; }\n"
              "store sqlite " + str(keys[2] / "k.db") + ";\napi_keys { }\n")
    return module_gateways.new("jwt").start(body, env={"TEST_JWT_SECRET": SECRET})


@pytest.fixture
def up(module_upstream):
    module_upstream.reset()
    return module_upstream


def claims(**over):
    now = int(time.time())
    c = {"iss": ISS, "aud": AUD, "sub": "user-42", "iat": now, "exp": now + 600, "org_id": "acme",
         "scope": "session:read memory:read", "jti": "tok-1", "email": "u@example.com"}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def mint(keys, kid="hs", headers=None, **over):
    made = keys[0]
    if kid == "hs":
        return jwt.encode(claims(**over), SECRET, algorithm="HS256", headers={"kid": "hs", **(headers or {})})
    alg, key = made[kid]
    return jwt.encode(claims(**over), key, algorithm=alg, headers={"kid": kid, **(headers or {})})


def call(gw, token, path="/api/me"):
    return gw.request("GET", path, headers=[("Authorization", "Bearer " + token)])


@pytest.mark.parametrize("kid", ["hs", "rs", "ps", "es", "es384", "ed"])
def test_every_algorithm_is_accepted(gw, up, keys, kid):
    doc = echo(call(gw, mint(keys, kid)))
    assert hdr(doc["headers"], "X-Auth-User-Id") == ["user-42"]


def test_identity_headers_from_claims(gw, up, keys):
    doc = echo(gw.request("GET", "/api/me", headers=[("Authorization", "Bearer " + mint(keys)), ("X-Auth-User-Id", "mallory")]))
    h = doc["headers"]
    assert hdr(h, "X-Auth-User-Id") == ["user-42"]
    assert hdr(h, "X-Auth-Org-Id") == ["acme"]
    assert hdr(h, "X-Auth-Email") == ["u@example.com"]
    assert hdr(h, "X-Auth-Permissions") == ["memory:read,session:read"]
    assert hdr(h, "X-Auth-Method") == ["jwt"]
    assert hdr(h, "X-Auth-Token-Id") == ["tok-1"]
    assert hdr(h, "Authorization") == []


def test_kid_less_token_and_audience_array(gw, up, keys):
    token = jwt.encode(claims(aud=["nope", "other-api"]), SECRET, algorithm="HS256")
    assert echo(call(gw, token))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict, payload: dict, key: bytes, digest=hashlib.sha256) -> str:
    h, p = b64(json.dumps(header).encode()), b64(json.dumps(payload).encode())
    return f"{h}.{p}." + b64(hmac.new(key, f"{h}.{p}".encode(), digest).digest())


def rejections(keys):
    made, paths, _ = keys
    now = int(time.time())
    good = mint(keys)
    h, p, s = good.split(".")
    return {
        "alg none": jwt.encode(claims(), None, algorithm="none"),
        "alg NONE unsigned": b64(json.dumps({"alg": "NONE", "kid": "hs"}).encode()) + "." + p + ".",
        "key confusion (HS256 with the RSA public key)": forged({"alg": "HS256", "kid": "rs"}, claims(), paths["rs"].read_bytes()),
        "alg mismatch with kid": forged({"alg": "HS384", "kid": "hs"}, claims(), SECRET.encode(), hashlib.sha384),
        "unknown alg": forged({"alg": "HS999", "kid": "hs"}, claims(), SECRET.encode()),
        "crit": mint(keys, headers={"crit": ["exp-ext"], "exp-ext": 1}),
        "expired": mint(keys, exp=now - 60),
        "not yet valid": mint(keys, nbf=now + 600),
        "issued in the future": mint(keys, iat=now + 600),
        "missing exp": mint(keys, exp=None),
        "wrong issuer": mint(keys, iss="https://evil.test"),
        "wrong audience": mint(keys, aud="someone-else"),
        "missing audience": mint(keys, aud=None),
        "unknown kid": jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "nope"}),
        "bad signature": h + "." + p + "." + ("A" if s[0] != "A" else "B") + s[1:],
        "tampered payload": h + "." + b64(json.dumps(claims(sub="admin")).encode()) + "." + s,
        "padding in base64": h + "=." + p + "." + s,
        "two segments": h + "." + p,
        "four segments": good + ".x",
        "payload not JSON": h + "." + b64(b"not json") + "." + s,
        "duplicate header key": b64(b'{"alg":"HS256","alg":"none","kid":"hs"}') + "." + p + "." + s,
        "DER ECDSA signature": der_es256(keys),
        "ECDSA r = 0": zero_r_es256(keys),
        "oversize": mint(keys, pad="x" * 9000),
        "jku header does not pick a key": forged({"alg": "HS256", "jku": "http://127.0.0.1:1/jwks", "kid": "evil"}, claims(), b"k" * 32),
    }


def der_es256(keys):
    from cryptography.hazmat.primitives import hashes
    _, key = keys[0]["es"]
    h = b64(json.dumps({"alg": "ES256", "kid": "es"}).encode())
    p = b64(json.dumps(claims()).encode())
    return f"{h}.{p}." + b64(key.sign(f"{h}.{p}".encode(), ec.ECDSA(hashes.SHA256())))


def zero_r_es256(keys):
    h = b64(json.dumps({"alg": "ES256", "kid": "es"}).encode())
    p = b64(json.dumps(claims()).encode())
    return f"{h}.{p}." + b64(b"\x00" * 32 + b"\x01" * 32)


def test_every_rejection_is_the_same_401(gw, up, keys):
    bodies = set()
    for label, token in rejections(keys).items():
        r = call(gw, token)
        doc = assert_error(r, 401, "invalid_token")
        assert r.header("WWW-Authenticate") == 'Bearer realm="gateway", error="invalid_token"', label
        bodies.add(doc["error_description"])
    assert len(bodies) == 1
    assert up.requests == []


def test_auth_modes(gw, up, keys):
    assert_error(call(gw, mint(keys), "/keys-only/x"), 401, "invalid_token")
    assert echo(call(gw, mint(keys), "/jwt-only/x"))
    assert_error(gw.request("GET", "/jwt-only/x"), 401, "unauthorized")


def test_cached_token_is_not_served_past_exp(gw, up, keys):
    token = mint(keys, exp=int(time.time()) + 2)
    assert call(gw, token).status == 200
    assert call(gw, token).status == 200          # from the cache
    time.sleep(2 + 5 + 1.2)                      # exp + leeway passed
    assert_error(call(gw, token), 401, "invalid_token")


@pytest.mark.parametrize("key_line,message", [
    ("key hs HS256 short-secret;", "weak"),
    ("key hs HS999 env:X;", "unknown algorithm"),
    ("key rs RS256 file:{rsa1024};", "weak"),
    ("key es ES384 file:{es256};", "curve"),
])
def test_weak_or_mismatched_keys_are_load_errors(gateway_bin, tmp_path, keys, key_line, message):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    (tmp_path / "rsa1024.pem").write_bytes(pem_public(small))
    line = key_line.format(rsa1024=tmp_path / "rsa1024.pem", es256=keys[1]["es"])
    conf = tmp_path / "k.conf"
    conf.write_text(f"jwt {{\n    issuer {ISS};\n    {line}\n}}\nroute /x {{ deny; }}\n")
    r = run_cli(gateway_bin, "check-config", "--config", str(conf), env={"X": "y" * 40})
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{conf}:3:" in r.stderr and message in r.stderr.lower(), r.stderr


def jwks_document(keys) -> dict:
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
    made = keys[0]
    out = []
    for kid, codec, alg in (("rs", RSAAlgorithm, "RS256"), ("ps", RSAAlgorithm, "PS256"), ("es", ECAlgorithm, None),
                            ("ed", OKPAlgorithm, None)):
        jwk = json.loads(codec.to_jwk(made[kid][1].public_key()))
        jwk["kid"] = "jwks-" + kid
        if alg:
            jwk["alg"] = alg
        out.append(jwk)
    return {"keys": out}


def test_jwks_file_keys_verify(module_gateways, module_upstream, keys, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks_document(keys)))
    body = (upstream_block("u", module_upstream.port)
            + f"jwt {{\n    issuer {ISS};\n    audience {AUD};\n    jwks_file {path};\n}}\nroute /api/** {{ upstream u; }}\n")
    gw = module_gateways.new("jwks").start(body)
    made = keys[0]
    for kid in ("rs", "ps", "es", "ed"):
        alg, key = made[kid]
        token = jwt.encode(claims(), key, algorithm=alg, headers={"kid": "jwks-" + kid})
        assert echo(call(gw, token))["path"] == "/api/me", kid
    # the same key under a kid the JWKS does not have, and an HS256 token, are refused
    alg, key = made["rs"]
    assert_error(call(gw, jwt.encode(claims(), key, algorithm=alg, headers={"kid": "other"})), 401, "invalid_token")
    assert_error(call(gw, jwt.encode(claims(), SECRET, algorithm="HS256")), 401, "invalid_token")
    gw.stop()


@pytest.mark.parametrize("document,message", [
    ({"keys": [{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "kid": "s"}]}, "symmetric"),
    ({"nokeys": []}, "keys"),
    ({"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA", "kid": "bad"}]}, "bad"),
])
def test_bad_jwks_file_is_a_load_error(gateway_bin, tmp_path, document, message):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(document))
    conf = tmp_path / "j.conf"
    conf.write_text(f"jwt {{\n    issuer {ISS};\n    jwks_file {path};\n}}\nroute /x {{ deny; }}\n")
    r = run_cli(gateway_bin, "check-config", "--config", str(conf))
    assert r.returncode == 2 and f"{conf}:3:5:" in r.stderr and message in r.stderr, r.stderr


@pytest.mark.parametrize("shape", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer  {t}", "Bearer {t}!", "Bearer {t} x",
                                   "Bearer {t},", "Token {t}", "Bearer\t{t}", "Bearer {t}\x7f"])
def test_malformed_authorization_is_invalid_token(gw, up, keys, shape):
    value = shape.format(t=mint(keys))
    if "\x7f" in value:   # a forbidden byte in a field value is a 400 before authentication
        resp = gw.request("GET", "/api/me", headers=[("Authorization", value)])
        assert_error(resp, 400, "invalid_request")
    else:
        assert_error(gw.request("GET", "/api/me", headers=[("Authorization", value)]), 401, "invalid_token")
    assert up.requests == []


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_bearer_scheme_is_case_insensitive(gw, up, keys, scheme):
    assert echo(gw.request("GET", "/api/me", headers=[("Authorization", f"{scheme} {mint(keys)}")]))


def test_same_token_repeated_on_one_connection(gw, up, keys):
    """Keep-alive clients repeat their token; a different (bad) token on the same connection is
    still refused, and a good one after it accepted."""
    good = mint(keys)
    bad = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    with gw.connect() as conn:
        for token, status in [(good, 200), (good, 200), (bad, 401), (good, 200), (mint(keys, sub="other"), 200)]:
            resp = conn.request("GET", "/api/me", headers=[("Authorization", "Bearer " + token)])
            assert resp.status == status, resp
            if status == 200:
                expected = "other" if token != good else "user-42"
                assert hdr(resp.json()["headers"], "X-Auth-User-Id") == [expected]
