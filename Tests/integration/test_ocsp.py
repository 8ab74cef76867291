"""OCSP stapling (`ocsp_response file:…` after a certificate's key): responses made by a real
responder (`openssl ocsp` over an `openssl ca`-style index) are stapled to handshakes that ask
for status, checked at load (issuer, signature, certificate, status), and reloaded on SIGHUP."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import HOST, check_config, wait_until
from tlspki import PKI

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

PUBLIC = 'route /pub/** { public; respond 200 "stapled"; }\n'


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    ca = PKI(tmp_path_factory.mktemp("ocsp-pki"))
    cert, key = ca.issue("main", dns=("localhost",), ips=("127.0.0.1",), revocation=True)
    ca.chain = ca.chain(cert)
    ca.leaf, ca.key = cert, key
    ca.other = ca.issue("other", dns=("other.test",))
    ca.good = ca.ocsp_response(cert, ca.dir / "good.der")
    ca.revoked = ca.ocsp_response(cert, ca.dir / "revoked.der", status="R")
    ca.for_other = ca.ocsp_response(ca.other[0], ca.dir / "for-other.der")
    ca.foreign = PKI(tmp_path_factory.mktemp("ocsp-foreign"), name="foreign")
    ca.forged = ca.ocsp_response(cert, ca.dir / "forged.der", signer=ca.foreign)
    return ca


def listen(chain: str, key: str, ocsp: str | None, extra: str = "") -> str:
    staple = f" ocsp_response file:{ocsp};" if ocsp else ""
    return f"listen {HOST}:0 tls {{ certificate file:{chain}; key file:{key};{staple} {extra} }}\n"


def status_of(port: int, *args: str, server_name: str = "localhost") -> str:
    r = subprocess.run(["openssl", "s_client", "-connect", f"{HOST}:{port}", "-servername", server_name, "-status", *args],
                       input=b"", capture_output=True, timeout=20)
    return r.stdout.decode("latin-1")


@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_the_response_is_stapled_when_asked_for(gateways, pki, version):
    g = gateways.new("ocsp").start(listen(pki.chain, pki.key, pki.good) + PUBLIC, listen=False)
    out = status_of(g.port, version)
    assert "OCSP Response Status: successful" in out, out
    assert "Cert Status: good" in out, out


def test_a_certificate_without_a_response_staples_nothing(gateways, pki):
    other_cert, other_key = pki.other
    body = (f"listen {HOST}:0 tls {{ certificate file:{pki.chain}; key file:{pki.key}; ocsp_response file:{pki.good};"
            f" certificate file:{other_cert}; key file:{other_key}; }}\n" + PUBLIC)
    g = gateways.new("ocsp-sni").start(body, listen=False)
    assert "Cert Status: good" in status_of(g.port)
    assert "OCSP response: no response sent" in status_of(g.port, server_name="other.test")


def test_sighup_reloads_the_response_and_a_bad_one_keeps_the_running_one(gateways, pki, tmp_path):
    live = tmp_path / "live.der"
    shutil.copy(pki.good, live)
    g = gateways.new("ocsp-reload").start(listen(pki.chain, pki.key, str(live)) + PUBLIC, listen=False)
    assert "Cert Status: good" in status_of(g.port)
    shutil.copy(pki.revoked, live)
    g.signal(signal.SIGHUP)
    wait_until(lambda: "config reload failed" in g.stdout_text() + g.stderr_text(), timeout=5, message="reload refused")
    assert "Cert Status: good" in status_of(g.port), "the running response is still stapled"
    refreshed = pki.ocsp_response(pki.leaf, tmp_path / "fresh.der")
    shutil.copy(refreshed, live)
    g.signal(signal.SIGHUP)
    wait_until(lambda: "config reloaded" in g.stdout_text() + g.stderr_text(), timeout=5, message="reload accepted")
    assert "Cert Status: good" in status_of(g.port)


@pytest.mark.parametrize("case,message", [
    ("revoked", "says the certificate is revoked"),
    ("for_other", "not about this certificate"),
    ("forged", "signature does not verify"),
    ("garbage", "not a DER-encoded OCSP response"),
    ("trailing", "not a DER-encoded OCSP response"),
    ("bodiless", "not a DER-encoded OCSP response"),
    ("refused", "did not answer successfully"),
    ("missing", "No such file or directory"),
    ("no_issuer", "must also hold the issuer"),
    ("before_key", "belongs after a certificate and its key"),
    ("twice", "already has an ocsp_response"),
])
def test_a_response_that_cannot_be_stapled_is_a_check_config_error(gateway_bin, tmp_path, pki, case, message):
    garbage = tmp_path / "garbage.der"
    garbage.write_text("not an OCSP response\n")
    trailing = tmp_path / "trailing.der"
    trailing.write_bytes(Path(pki.good).read_bytes() + b"\0")
    bodiless = tmp_path / "bodiless.der"
    bodiless.write_bytes(b"\x30\x03\x0a\x01\x00")   # status successful, no response bytes
    refused = tmp_path / "refused.der"
    refused.write_bytes(b"\x30\x03\x0a\x01\x06")    # status unauthorized
    lines = {
        "revoked": listen(pki.chain, pki.key, pki.revoked),
        "for_other": listen(pki.chain, pki.key, pki.for_other),
        "forged": listen(pki.chain, pki.key, pki.forged),
        "garbage": listen(pki.chain, pki.key, str(garbage)),
        "trailing": listen(pki.chain, pki.key, str(trailing)),
        "bodiless": listen(pki.chain, pki.key, str(bodiless)),
        "refused": listen(pki.chain, pki.key, str(refused)),
        "missing": listen(pki.chain, pki.key, str(tmp_path / "missing.der")),
        "no_issuer": listen(pki.leaf, pki.key, pki.good),
        "before_key": f"listen {HOST}:0 tls {{ certificate file:{pki.chain}; ocsp_response file:{pki.good}; key file:{pki.key}; }}\n",
        "twice": listen(pki.chain, pki.key, pki.good, extra=f"ocsp_response file:{pki.good};"),
    }
    r = check_config(gateway_bin, tmp_path, lines[case] + PUBLIC)
    assert r.returncode != 0, r.stdout
    assert message in r.stderr, r.stderr
    assert "t.conf:1:" in r.stderr


def test_a_good_response_passes_check_config(gateway_bin, tmp_path, pki):
    r = check_config(gateway_bin, tmp_path, listen(pki.chain, pki.key, pki.good) + PUBLIC)
    assert r.returncode == 0, r.stderr
    assert "ocsp" not in r.stderr.lower(), r.stderr
