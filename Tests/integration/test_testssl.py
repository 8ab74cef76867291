"""A third-party TLS scanner against a TLS listener: `testssl.sh` (Debian package `testssl.sh`)
must report no finding of severity MEDIUM or higher. The certificate is an ECDSA P-256 leaf of a
test CA that the scanner is told to trust (`--add-ca`), valid for a year, naming where its
revocation data would be published (as a public CA's certificate does), with an OCSP response
from the test CA's responder stapled."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tlspki import PKI

TESTSSL = shutil.which("testssl") or shutil.which("testssl.sh")
pytestmark = pytest.mark.skipif(TESTSSL is None or shutil.which("openssl") is None,
                                reason="needs testssl.sh (apt install testssl.sh) and openssl")

SEVERE = {"MEDIUM", "HIGH", "CRITICAL"}


def test_testssl_finds_nothing_medium_or_higher(gateways, tmp_path):
    pki = PKI(tmp_path / "pki")
    cert, key = pki.issue("scan", dns=("localhost",), ips=("127.0.0.1",), days=365, revocation=True)
    ocsp = pki.ocsp_response(cert, tmp_path / "scan.ocsp")
    gw = gateways.new("testssl").start(
        f"listen 127.0.0.1:0 tls {{ certificate file:{pki.chain(cert)}; key file:{key}; ocsp_response file:{ocsp}; }}\n"
        'route /** { public; respond 200 "scanned"; }\n', listen=False)
    report = tmp_path / "testssl.json"
    r = subprocess.run([TESTSSL, "--quiet", "--color", "0", "--warnings", "off", "--add-ca", pki.ca_cert,
                        "--jsonfile-pretty", str(report), f"127.0.0.1:{gw.port}"],
                       capture_output=True, text=True, timeout=600)
    assert report.exists(), r.stdout[-2000:] + r.stderr[-2000:]
    findings = [f for section in json.loads(report.read_text())["scanResult"] for value in section.values()
                if isinstance(value, list) for f in value if isinstance(f, dict)]
    assert findings, "the scan reported nothing"
    severe = [(f["severity"], f["id"], f["finding"]) for f in findings if f.get("severity") in SEVERE]
    assert not severe, severe
    ids = {f["id"]: f for f in findings}
    assert ids["TLS1_3"]["finding"].startswith("offered"), ids["TLS1_3"]
    assert ids["TLS1"]["finding"] == "not offered" and ids["TLS1_1"]["finding"] == "not offered"
    assert ids["OCSP_stapling"]["finding"].startswith("offered"), ids["OCSP_stapling"]
