#!/usr/bin/env python3
"""Regenerates Tests/GatewayCoreTests/IdPJWKSFixtures.swift: JWKS documents shaped like the ones
real identity providers publish (Keycloak, Auth0, Google, Microsoft Entra, Okta), made from
fresh test-only keys, each with one token signed by a key of the document.

The shapes (members, key mix) follow the providers' public documentation: Keycloak lists an
RSA `use: enc` (RSA-OAEP) key beside its signing key, Entra omits `alg` and adds `issuer`,
Auth0 and Entra carry `x5c`/`x5t`, Google and Okta publish bare RSA keys. Needs `cryptography`
and PyJWT. Test-only keys; never use them anywhere else."""

import base64
import datetime
import hashlib
import json
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

OUT = Path(__file__).resolve().parent / "GatewayCoreTests" / "IdPJWKSFixtures.swift"
ISSUER = "https://idp.example.test"
AUDIENCE = "agent-api"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n: int) -> str:
    return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def cert_der(key, name: str) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(1000)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=36500))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def rsa_jwk(key, kid: str, *, x5c: bool = False, **extra) -> dict:
    numbers = key.public_key().public_numbers()
    jwk = {"kid": kid, "kty": "RSA", **extra, "n": uint(numbers.n), "e": uint(numbers.e)}
    if x5c:
        der = cert_der(key, kid)
        jwk["x5c"] = [base64.b64encode(der).decode()]
        jwk["x5t"] = b64(hashlib.sha1(der).digest())
        jwk["x5t#S256"] = b64(hashlib.sha256(der).digest())
    return jwk


def token(key, kid: str, alg: str, sub: str) -> str:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": 1_700_000_000, "exp": 2_000_000_000}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def main() -> None:
    sig, enc, second = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3))
    p256 = ec.generate_private_key(ec.SECP256R1())
    okp = ed25519.Ed25519PrivateKey.generate()
    okp_x = okp.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    p256_numbers = p256.public_key().public_numbers()

    documents = {
        "keycloak": ({"keys": [
            rsa_jwk(sig, "kc-sig", x5c=True, alg="RS256", use="sig"),
            rsa_jwk(enc, "kc-enc", x5c=True, alg="RSA-OAEP", use="enc"),
        ]}, token(sig, "kc-sig", "RS256", "kc-user"), ["kc-sig"], ["kc-enc"]),
        "auth0": ({"keys": [
            rsa_jwk(sig, "auth0-a", x5c=True, use="sig", alg="RS256"),
            rsa_jwk(second, "auth0-b", x5c=True, use="sig", alg="RS256"),
        ]}, token(second, "auth0-b", "RS256", "auth0|123"), ["auth0-a", "auth0-b"], []),
        "google": ({"keys": [
            rsa_jwk(sig, "google-1", alg="RS256", use="sig"),
            rsa_jwk(second, "google-2", alg="RS256", use="sig"),
        ]}, token(sig, "google-1", "RS256", "1098765432"), ["google-1", "google-2"], []),
        "entra": ({"keys": [
            rsa_jwk(sig, "entra-1", x5c=True, use="sig", issuer="https://login.microsoftonline.com/tenant/v2.0"),
            rsa_jwk(second, "entra-2", x5c=True, use="sig", issuer="https://login.microsoftonline.com/tenant/v2.0"),
        ]}, token(sig, "entra-1", "RS256", "entra-oid"), ["entra-1", "entra-2"], []),
        "okta": ({"keys": [
            rsa_jwk(sig, "okta-1", alg="RS256", use="sig"),
        ]}, token(sig, "okta-1", "RS256", "00u1okta"), ["okta-1"], []),
        "mixed": ({"keys": [
            {"kid": "secret", "kty": "oct", "k": b64(b"s" * 32), "alg": "HS256"},
            {"kid": "future", "kty": "foo", "x": "AA"},
            rsa_jwk(enc, "wrap-only", key_ops=["wrapKey"]),
            {"kid": "ec-1", "kty": "EC", "crv": "P-256", "x": uint(p256_numbers.x), "y": uint(p256_numbers.y)},
            {"kid": "ed-1", "kty": "OKP", "crv": "Ed25519", "x": b64(okp_x), "use": "sig"},
            {"kid": "x25519", "kty": "OKP", "crv": "X25519", "x": b64(okp_x)},
        ]}, token(p256, "ec-1", "ES256", "mixed-user"), ["ec-1", "ed-1"], ["secret", "future", "wrap-only", "x25519"]),
        "unusable": ({"keys": [
            rsa_jwk(enc, "only-enc", alg="RSA-OAEP", use="enc"),
            {"kid": "only-oct", "kty": "oct", "k": b64(b"s" * 32)},
        ]}, token(enc, "only-enc", "RS256", "nobody"), [], ["only-enc", "only-oct"]),
    }

    lines = [
        "// Generated by Tests/make-idp-jwks-fixtures.py: JWKS documents shaped like real identity",
        "// providers' (test-only keys), each with a token signed by one of its keys. Do not edit.",
        "",
        "enum IdPJWKSFixtures {",
        "    struct Document: Sendable {",
        "        let name: String",
        "        let json: String",
        "        let token: String",
        "        let usableKids: [String]",
        "        let skippedKids: [String]",
        "    }",
        "",
        f"    static let issuer = {json.dumps(ISSUER)}",
        f"    static let audience = {json.dumps(AUDIENCE)}",
        "    /// A unix time at which every token is valid.",
        "    static let now: Int64 = 1_800_000_000",
        "",
        "    static let documents: [Document] = [",
    ]
    for name, (document, signed, usable, skipped) in documents.items():
        lines.append("        Document(")
        lines.append(f"            name: {json.dumps(name)},")
        lines.append(f"            json: #\"{json.dumps(document, separators=(',', ':'))}\"#,")
        lines.append(f"            token: {json.dumps(signed)},")
        lines.append(f"            usableKids: {json.dumps(usable)},")
        lines.append(f"            skippedKids: {json.dumps(skipped)}),")
    lines += ["    ]", "}", ""]
    OUT.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
