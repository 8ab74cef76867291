"""JWKS over HTTPS and OIDC discovery (issue 11, SPEC §5) against an identity-provider stand-in:
an HTTPS server (certificate from a test CA) serving a discovery document and a JWKS shaped like
a real IdP's (several RSA and EC signing keys with `x5c`, an `enc` key), rotating keys while it
serves. Tokens are minted by PyJWT. The gateway trusts the test CA through `SSL_CERT_FILE`, as
curl would."""

from __future__ import annotations

import base64
import datetime
import json
import shutil
import threading
import time

import pytest

jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from jwt.algorithms import ECAlgorithm, RSAAlgorithm  # noqa: E402

from conftest import assert_error, echo, run_cli, upstream_block, wait_until  # noqa: E402
from jsonserver import JSONHandler, loopback_server, serve_in_background  # noqa: E402
from tlspki import PKI  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
AUD = "agent-api"


class IdP:
    """An OIDC provider stand-in over HTTPS. `issuer_path` is the issuer's path ("/realms/x"
    for a Keycloak-like issuer); `signing` holds the published signing keys by kid."""

    def __init__(self, pki: PKI, issuer_path: str = "/realms/agents"):
        self.signing: dict[str, tuple[str, object]] = {}
        self.enc_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.issuer_override: str | None = None
        self.jwks_uri_override: str | None = None
        owner = self

        class Handler(JSONHandler):
            def do_GET(self):  # noqa: N802
                with owner.lock:
                    owner.requests.append(self.path)
                if self.path == owner.issuer_path + "/.well-known/openid-configuration":
                    self.reply(200, owner.discovery())
                elif self.path == owner.issuer_path + "/protocol/openid-connect/certs":
                    self.reply(200, owner.jwks())
                else:
                    self.send_error(404)

        self.issuer_path = issuer_path
        self.server = loopback_server(Handler, pki, name="idp")
        self.port = self.server.server_address[1]
        serve_in_background(self.server)

    @property
    def issuer(self) -> str:
        return f"https://localhost:{self.port}{self.issuer_path}"

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer_override or self.issuer,
            "authorization_endpoint": self.issuer + "/protocol/openid-connect/auth",
            "token_endpoint": self.issuer + "/protocol/openid-connect/token",
            "jwks_uri": self.jwks_uri_override or self.issuer + "/protocol/openid-connect/certs",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        }

    def add_key(self, kid: str, alg: str = "RS256") -> None:
        key = ec.generate_private_key(ec.SECP256R1()) if alg == "ES256" else rsa.generate_private_key(
            public_exponent=65537, key_size=2048)
        with self.lock:
            self.signing[kid] = (alg, key)

    def remove_key(self, kid: str) -> None:
        with self.lock:
            del self.signing[kid]

    def jwks(self) -> dict:
        with self.lock:
            items = list(self.signing.items())
        keys = []
        for kid, (alg, key) in items:
            public = key.public_key()
            jwk = json.loads((ECAlgorithm if alg == "ES256" else RSAAlgorithm).to_jwk(public))
            jwk.update(kid=kid, alg=alg, use="sig", x5c=[self_signed_x5c(key, kid)])
            keys.append(jwk)
        enc = json.loads(RSAAlgorithm.to_jwk(self.enc_key.public_key()))
        enc.update(kid="enc-1", alg="RSA-OAEP", use="enc")
        keys.insert(0, enc)
        return {"keys": keys}

    def token(self, kid: str, **claims) -> str:
        alg, key = self.signing[kid]
        now = int(time.time())
        body = {"iss": self.issuer, "aud": AUD, "sub": "user-42", "iat": now, "exp": now + 600, **claims}
        return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed_x5c(key, cn: str) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(tmp_path_factory.mktemp("idp-pki"))


@pytest.fixture
def idp(pki):
    provider = IdP(pki)
    provider.add_key("rsa-1")
    provider.add_key("ec-1", "ES256")
    yield provider
    provider.stop()


def config(upstream_port: int, jwt_lines: str) -> str:
    return (upstream_block("u", upstream_port)
            + f"jwt {{\n{jwt_lines}    audience {AUD};\n}}\n"
            + "route /api/** { auth jwt; upstream u; }\n")


def call(gw, token: str):
    return gw.request("GET", "/api/x", {"Authorization": f"Bearer {token}"})


def test_discovery_over_https_finds_the_keys_and_the_issuer(gateways, upstream, idp, pki):
    gw = gateways.new("oidc").start(config(upstream.port, f"    discovery {idp.discovery_url};\n"),
                                   env={"SSL_CERT_FILE": pki.ca_cert})
    for kid in ("rsa-1", "ec-1"):
        doc = echo(call(gw, idp.token(kid)))
        assert doc["path"] == "/api/x"
    assert idp.requests[:2] == [idp.issuer_path + "/.well-known/openid-configuration",
                                idp.issuer_path + "/protocol/openid-connect/certs"]
    other = idp.token("rsa-1", iss="https://evil.test/realms/agents")
    assert_error(call(gw, other), 401, "invalid_token")


def test_rotation_while_serving(gateways, upstream, idp, pki):
    gw = gateways.new("oidc-rot").start(config(upstream.port, f"    discovery {idp.discovery_url};\n"),
                                       env={"SSL_CERT_FILE": pki.ca_cert})
    assert echo(call(gw, idp.token("rsa-1")))
    idp.add_key("rsa-2")
    idp.remove_key("rsa-1")
    assert echo(call(gw, idp.token("rsa-2"))), "an unknown kid fetches the rotated set (over discovery)"


def test_jwks_url_over_https(gateways, upstream, idp, pki):
    url = idp.issuer + "/protocol/openid-connect/certs"
    gw = gateways.new("jwks-https").start(
        config(upstream.port, f"    issuer {idp.issuer};\n    jwks_url {url};\n"), env={"SSL_CERT_FILE": pki.ca_cert})
    assert echo(call(gw, idp.token("ec-1")))


def test_an_untrusted_idp_certificate_is_a_failed_fetch_and_a_503(gateways, upstream, idp):
    gw = gateways.new("oidc-untrusted").start(config(upstream.port, f"    discovery {idp.discovery_url};\n"))
    resp = call(gw, idp.token("rsa-1"))
    assert_error(resp, 503, "temporarily_unavailable")
    assert resp.header("Retry-After")
    wait_until(lambda: "certificate verification failed" in gw.stdout_text() + gw.stderr_text(), timeout=5,
               message="the fetch failure names the verification error")


def test_a_configured_ca_trusts_an_idp_with_a_private_ca(gateways, upstream, idp, pki):
    # No SSL_CERT_FILE: only the block's `ca` knows the test CA.
    gw = gateways.new("oidc-ca").start(
        config(upstream.port, f"    discovery {idp.discovery_url};\n    ca file:{pki.ca_cert};\n"))
    assert echo(call(gw, idp.token("rsa-1")))["path"] == "/api/x"


def test_a_discovery_document_for_another_issuer_is_refused(gateways, upstream, idp, pki):
    idp.issuer_override = "https://attacker.test/realms/agents"
    gw = gateways.new("oidc-mixup").start(config(upstream.port, f"    discovery {idp.discovery_url};\n"),
                                         env={"SSL_CERT_FILE": pki.ca_cert})
    assert call(gw, idp.token("rsa-1")).status in (401, 503)
    wait_until(lambda: "is not the configured" in gw.stdout_text() + gw.stderr_text(), timeout=5,
               message="issuer mismatch logged")
    assert not any(p.endswith("/certs") for p in idp.requests), "the keys of a mismatched document are not fetched"


def test_a_plain_http_jwks_uri_from_an_https_discovery_is_refused(gateways, upstream, idp, pki):
    idp.jwks_uri_override = f"http://localhost:{idp.port}{idp.issuer_path}/protocol/openid-connect/certs"
    gw = gateways.new("oidc-downgrade").start(config(upstream.port, f"    discovery {idp.discovery_url};\n"),
                                             env={"SSL_CERT_FILE": pki.ca_cert})
    assert call(gw, idp.token("rsa-1")).status in (401, 503)
    wait_until(lambda: "is not https" in gw.stdout_text() + gw.stderr_text(), timeout=5, message="downgrade logged")


def test_an_explicit_issuer_with_a_trailing_slash(gateways, upstream, pki):
    """Auth0-style: the issuer ends with "/", the discovery URL has it once."""
    provider = IdP(pki, issuer_path="")
    provider.add_key("a0")
    try:
        provider.issuer_override = f"https://localhost:{provider.port}/"
        gw = gateways.new("oidc-auth0").start(
            config(upstream.port, f"    issuer https://localhost:{provider.port}/;\n    discovery {provider.discovery_url};\n"),
            env={"SSL_CERT_FILE": pki.ca_cert})
        token = provider.token("a0", iss=f"https://localhost:{provider.port}/")
        assert echo(call(gw, token))
    finally:
        provider.stop()


@pytest.mark.parametrize("lines,message", [
    ("discovery https://idp.test/keys;", "cannot tell the issuer"),
    ("discovery https://idp.test/.well-known/openid-configuration; discovery https://idp.test/b/.well-known/openid-configuration;",
     "duplicate \"discovery\""),
    ("discovery ftp://idp.test/.well-known/openid-configuration;", "http"),
])
def test_bad_discovery_is_a_check_config_error(gateway_bin, tmp_path, lines, message):
    conf = tmp_path / "d.conf"
    conf.write_text(f"jwt {{ {lines} audience a; }}\nroute /x {{ auth jwt; respond 200 \"x\"; }}\n")
    r = run_cli(gateway_bin, "check-config", "--config", str(conf))
    assert r.returncode != 0
    assert message in r.stderr, r.stderr


def test_check_config_derives_the_issuer_and_fetches_nothing(gateway_bin, tmp_path):
    conf = tmp_path / "d.conf"
    conf.write_text("jwt { discovery https://kc.test/realms/a/.well-known/openid-configuration; audience a; }\n"
                    "route /x { auth jwt; respond 200 \"x\"; }\n")
    r = run_cli(gateway_bin, "check-config", "--config", str(conf))
    assert r.returncode == 0, r.stderr
