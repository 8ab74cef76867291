"""A throwaway PKI made with the `openssl` command line for the TLS tests: a CA, server
certificates (ECDSA P-256 unless asked otherwise) with chosen names and validity, and client
certificates for mTLS. Everything lands in one directory; paths are returned as strings."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class PKI:
    def __init__(self, directory: Path, name: str = "ca"):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.ca_key = str(self.dir / f"{name}.key")
        self.ca_cert = str(self.dir / f"{name}.crt")
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", self.ca_key, "-out", self.ca_cert, "-days", "30", "-subj", f"/CN=Test {name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=self.dir)
        self._serial = 1000

    def issue(self, name: str, *, dns: tuple[str, ...] = (), ips: tuple[str, ...] = (), uris: tuple[str, ...] = (),
              cn: str | None = None, org: str | None = None, client: bool = False, expired: bool = False,
              rsa: bool = False, days: int = 10, revocation: bool = False) -> tuple[str, str]:
        """Issues a leaf certificate; returns (certificate path, key path)."""
        key = str(self.dir / f"{name}.key")
        csr = str(self.dir / f"{name}.csr")
        cert = str(self.dir / f"{name}.crt")
        ext = self.dir / f"{name}.ext"
        keyspec = ["-newkey", "rsa:2048"] if rsa else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        subject = f"/CN={cn or name}" + (f"/O={org}" if org else "")
        _run("req", *keyspec, "-nodes", "-keyout", key, "-out", csr, "-subj", subject, cwd=self.dir)
        sans = [f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips] + [f"URI:{u}" for u in uris]
        lines = ["basicConstraints=critical,CA:FALSE",
                 f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}"]
        if sans:
            lines.append("subjectAltName=" + ",".join(sans))
        if revocation:   # where a real CA's certificate says revocation is published
            lines.append("crlDistributionPoints=URI:http://ca.test/test.crl")
            lines.append("authorityInfoAccess=OCSP;URI:http://ocsp.ca.test")
        ext.write_text("\n".join(lines) + "\n")
        self._serial += 1
        if expired:
            _expired_with_ca(self, csr, cert, ext)
        else:
            _run("x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key, "-out", cert,
                 "-set_serial", str(self._serial), "-days", str(days), "-extfile", str(ext), cwd=self.dir)
        return cert, key


def _expired_with_ca(pki: PKI, csr: str, cert: str, ext: Path) -> None:
    """A validity window entirely in the past: OpenSSL 3.0's `x509` cannot set the start
    date, `openssl ca` with explicit dates can."""
    db = pki.dir / "ca-db"
    db.mkdir(exist_ok=True)
    (db / "index.txt").write_text("")
    (db / "serial").write_text(f"{pki._serial:04X}\n")
    conf = db / "ca.cnf"
    conf.write_text(
        "[ca]\ndefault_ca=d\n[d]\n"
        f"dir={db}\ndatabase=$dir/index.txt\nserial=$dir/serial\nnew_certs_dir=$dir\n"
        "default_md=sha256\npolicy=p\ncopy_extensions=none\nunique_subject=no\n[p]\ncommonName=supplied\n")
    _run("ca", "-batch", "-config", str(conf), "-in", csr, "-out", cert, "-cert", pki.ca_cert, "-keyfile",
         pki.ca_key, "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-extfile", str(ext),
         "-notext", cwd=pki.dir)
