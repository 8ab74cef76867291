"""A throwaway PKI made with the `openssl` command line for the TLS tests: a CA, server
certificates (ECDSA P-256 unless asked otherwise) with chosen names and validity, and client
certificates for mTLS. Everything lands in one directory; paths are returned as strings."""

from __future__ import annotations

import datetime
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
              rsa: bool = False, days: int = 10, revocation: bool = False,
              raw_uris: tuple[bytes, ...] = ()) -> tuple[str, str]:
        """Issues a leaf certificate; returns (certificate path, key path). `cn` "a|b": two
        CNs. `raw_uris`: URI names written byte for byte (DER), so a test can make names no CA
        tool would."""
        key = str(self.dir / f"{name}.key")
        csr = str(self.dir / f"{name}.csr")
        cert = str(self.dir / f"{name}.crt")
        ext = self.dir / f"{name}.ext"
        keyspec = ["-newkey", "rsa:2048"] if rsa else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        subject = "".join(f"/CN={c}" for c in (cn or name).split("|")) + (f"/O={org}" if org else "")
        _run("req", *keyspec, "-nodes", "-keyout", key, "-out", csr, "-subj", subject, cwd=self.dir)
        sans = [f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips] + [f"URI:{u}" for u in uris]
        lines = ["basicConstraints=critical,CA:FALSE",
                 f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}"]
        if raw_uris:   # subjectAltName (2.5.29.17) as DER: GeneralNames of [6] IA5String
            names = b"".join(b"\x86" + bytes([len(u)]) + u for u in raw_uris)
            lines.append("2.5.29.17=DER:" + (b"\x30" + bytes([len(names)]) + names).hex())
        elif sans:
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

    def chain(self, cert: str) -> str:
        """The leaf followed by this CA's certificate, as a CA delivers a chain file."""
        path = Path(cert).with_suffix(".chain.crt")
        path.write_text(Path(cert).read_text() + Path(self.ca_cert).read_text())
        return str(path)

    def ocsp_response(self, cert: str, out: Path, *, status: str = "V", signer: "PKI | None" = None) -> str:
        """A DER OCSP response from `signer`'s responder (this CA by default), made by
        `openssl ocsp` over an index where `cert` has `status` (V valid, R revoked); valid a day."""
        serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", cert], capture_output=True,
                                text=True, check=True, timeout=60).stdout.strip().split("=", 1)[1]
        signer = signer or self
        expiry = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=10)).strftime("%y%m%d%H%M%SZ")
        revoked = "200101000000Z" if status == "R" else ""
        index = out.with_suffix(".index")
        index.write_text(f"{status}\t{expiry}\t{revoked}\t{serial}\tunknown\t/CN=x\n")
        request = out.with_suffix(".req")
        _run("ocsp", "-issuer", self.ca_cert, "-cert", cert, "-no_nonce", "-reqout", str(request), cwd=out.parent)
        _run("ocsp", "-index", str(index), "-rsigner", signer.ca_cert, "-rkey", signer.ca_key, "-CA", signer.ca_cert,
             "-reqin", str(request), "-respout", str(out), "-ndays", "1", cwd=out.parent)
        return str(out)


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
