"""TLS listeners and HTTPS upstreams (issue 11) with real clients: a test CA made by `openssl`,
`curl --cacert`, `openssl s_client` and Python `ssl`. SNI selection, TLS 1.0/1.1 refused, ALPN,
session resumption, client certificates, plain HTTP on the TLS port, the handshake deadline,
certificate reload on SIGHUP, and HTTPS upstreams whose certificates are checked."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import HOST, Conn, assert_error, build_request, check_config, echo, upstream_block, wait_until
from tlspki import PKI
from upstream import Upstream

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    ca = PKI(tmp_path_factory.mktemp("pki"))
    ca.main = ca.issue("main", dns=("localhost", "gateway.test"), ips=("127.0.0.1",))
    ca.other = ca.issue("other", dns=("other.test", "*.wild.test"))
    ca.rsa = ca.issue("rsa", dns=("rsa.test",), rsa=True)
    ca.expired = ca.issue("expired", dns=("localhost",), ips=("127.0.0.1",), expired=True)
    ca.client = ca.issue("agent-7", client=True, cn="agent-7")
    ca.foreign = PKI(tmp_path_factory.mktemp("foreign"), name="foreign")
    ca.foreign_client = ca.foreign.issue("intruder", client=True)
    return ca


def tls_listen(*pairs: tuple[str, str], extra: str = "") -> str:
    certs = " ".join(f"certificate file:{c}; key file:{k};" for c, k in pairs)
    return f"listen {HOST}:0 tls {{ {certs} {extra} }}\n"


PUBLIC = 'route /pub/** { public; respond 200 "hello over tls"; }\n'


@pytest.fixture(scope="module")
def gw(module_gateways, pki, module_upstream):
    body = (tls_listen(pki.main, pki.other, pki.rsa)
            + upstream_block("u", module_upstream.port)
            + PUBLIC + "route /api/** { public; upstream u; }\n")
    g = module_gateways.new("tls").start(body, listen=False, access_log="stdout")
    return g


def client_context(pki, **kw) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=pki.ca_cert)
    for name, value in kw.items():
        setattr(ctx, name, value)
    return ctx


def read_all(s) -> bytes:
    data = bytearray()
    while True:
        chunk = s.recv(262144)
        if not chunk:
            return bytes(data)
        data += chunk


def tls_get(port: int, ctx: ssl.SSLContext, path: str = "/pub/x", server_name: str | None = "localhost",
            session=None, extra_headers: str = "") -> tuple[bytes, ssl.SSLSocket]:
    raw = socket.create_connection((HOST, port), timeout=5)
    s = ctx.wrap_socket(raw, server_hostname=server_name, session=session)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra_headers}Connection: close\r\n\r\n".encode())
    return read_all(s), s


def s_client(port: int, *args: str, stdin: bytes = b"") -> str:
    r = subprocess.run(["openssl", "s_client", "-connect", f"{HOST}:{port}", *args], input=stdin,
                       capture_output=True, timeout=20)
    return r.stdout.decode("latin-1") + r.stderr.decode("latin-1")


def peer_subject(port: int, server_name: str | None) -> str:
    args = ["-servername", server_name] if server_name else ["-noservername"]
    out = s_client(port, *args)
    line = next((l for l in out.splitlines() if l.startswith("subject=")), "")
    return line


# -- listener basics ---------------------------------------------------------------------------

def test_curl_gets_a_public_route_over_tls(gw, pki):
    r = subprocess.run(["curl", "-sS", "--cacert", pki.ca_cert, "-w", "\n%{http_version} %{ssl_verify_result}",
                        f"https://localhost:{gw.port}/pub/x"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    body, meta = r.stdout.rsplit("\n", 1)
    assert body == "hello over tls"
    assert meta == "1.1 0"


def test_forwarded_proto_is_https(gw, pki, module_upstream):
    module_upstream.reset()
    data, _ = tls_get(gw.port, client_context(pki), "/api/echo", extra_headers="X-Forwarded-Proto: http\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    seen = {n.lower(): v for n, v in json.loads(body)["headers"]}
    assert seen["x-forwarded-proto"] == "https", "an untrusted client's X-Forwarded-Proto is replaced"


def test_sni_selects_the_certificate_and_falls_back_to_the_first(gw):
    assert "CN = other" in peer_subject(gw.port, "other.test")
    assert "CN = other" in peer_subject(gw.port, "a.wild.test"), "wildcard SAN"
    assert "CN = rsa" in peer_subject(gw.port, "rsa.test")
    assert "CN = main" in peer_subject(gw.port, "unknown.test"), "no match: the default"
    assert "CN = main" in peer_subject(gw.port, None), "no SNI: the default"


@pytest.mark.parametrize("flag", ["-tls1", "-tls1_1"])
def test_tls_1_0_and_1_1_are_refused(gw, flag):
    out = s_client(gw.port, flag, "-cipher", "DEFAULT:@SECLEVEL=0")
    assert "Cipher is (NONE)" in out or "alert protocol version" in out or "no protocols available" in out, out[-800:]
    assert "Protocol  : TLSv1.2" not in out and "TLSv1.3" not in out.split("---")[-1]


def test_tls_1_2_and_1_3_are_served(gw, pki):
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = client_context(pki, minimum_version=version, maximum_version=version)
        data, s = tls_get(gw.port, ctx)
        assert data.startswith(b"HTTP/1.1 200"), data[:100]
        assert s.version() == ("TLSv1.2" if version == ssl.TLSVersion.TLSv1_2 else "TLSv1.3")


def test_tls_1_2_uses_forward_secret_aead_suites_only(gw, pki):
    for cipher in ("AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA", "DHE-RSA-AES128-GCM-SHA256"):
        out = s_client(gw.port, "-tls1_2", "-cipher", cipher, "-servername", "rsa.test")
        assert "Cipher is (NONE)" in out or "handshake failure" in out or "no cipher" in out, (cipher, out[-600:])
    out = s_client(gw.port, "-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305")
    assert "Cipher is ECDHE-ECDSA-CHACHA20-POLY1305" in out, out[-600:]


def test_tls_1_3_suites_follow_the_servers_order(gw, pki):
    # A client preferring AES-256 still gets AES-128 (Mozilla "intermediate", server order);
    # a client offering only ChaCha20 gets it.
    out = s_client(gw.port, "-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256")
    assert "Cipher is TLS_AES_128_GCM_SHA256" in out, out[-600:]
    out = s_client(gw.port, "-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256")
    assert "Cipher is TLS_CHACHA20_POLY1305_SHA256" in out, out[-600:]


def test_alpn_offers_http11_only(gw, pki):
    ctx = client_context(pki)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    _, s = tls_get(gw.port, ctx)
    assert s.selected_alpn_protocol() == "http/1.1"
    ctx = client_context(pki)
    ctx.set_alpn_protocols(["h2"])
    data, s = tls_get(gw.port, ctx)
    assert s.selected_alpn_protocol() is None, "no shared protocol: no ALPN answer"
    assert data.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_sessions_resume(gw, pki, version):
    ctx = client_context(pki, minimum_version=version, maximum_version=version)
    _, first = tls_get(gw.port, ctx)
    assert not first.session_reused
    session = first.session
    assert session is not None and session.has_ticket
    _, second = tls_get(gw.port, ctx, session=session)
    assert second.session_reused, "the ticket from the first connection resumes the second"


def test_a_tls13_resumption_hands_the_client_a_new_ticket(gw, pki):
    # Clients use a TLS 1.3 ticket once (RFC 8446 §C.4; OpenSSL's client session cache, wrk,
    # browsers): without a new ticket on each resumed connection, the next one is a full
    # handshake. The session id a client keeps is a hash of its ticket.
    ctx = client_context(pki, minimum_version=ssl.TLSVersion.TLSv1_3, maximum_version=ssl.TLSVersion.TLSv1_3)
    _, s = tls_get(gw.port, ctx)
    session = s.session
    for _ in range(3):
        _, s = tls_get(gw.port, ctx, session=session)
        assert s.session_reused
        assert s.session.id != session.id, "a resumed TLS 1.3 connection brought no new ticket"
        session = s.session


def test_plain_http_on_the_tls_port_gets_a_400_and_a_close(gw):
    with socket.create_connection((HOST, gw.port), timeout=5) as s:
        s.sendall(b"GET /pub/x HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), data[:200]
    assert b"Connection: close" in head
    assert json.loads(body)["error"] == "invalid_request"


def test_a_stalled_handshake_is_closed_at_the_head_deadline(module_gateways, pki):
    g = module_gateways.new("tls-deadline").start(
        tls_listen(pki.main) + "limits { head_timeout 1s; }\n" + PUBLIC, listen=False)
    for partial in (b"", b"\x16\x03\x01\x00\xc8\x01\x00"):   # nothing, or half a ClientHello
        with socket.create_connection((HOST, g.port), timeout=5) as s:
            s.sendall(partial)
            start = time.monotonic()
            try:
                closed = s.recv(4096) == b""
            except ConnectionResetError:
                closed = True
            assert closed, "the gateway closes the connection"
            assert time.monotonic() - start < 3.5, "the handshake is bounded by head_timeout"


def test_keep_alive_and_pipelining_over_tls(gw, pki):
    ctx = client_context(pki)
    with socket.create_connection((HOST, gw.port), timeout=5) as raw, ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"GET /pub/a HTTP/1.1\r\nHost: localhost\r\n\r\n" * 3 + b"GET /pub/b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = read_all(s)
    assert data.count(b"HTTP/1.1 200") == 4
    assert data.count(b"hello over tls") == 4


def test_requests_in_separate_records_of_one_segment_are_all_answered(gw, pki):
    """Several TLS records arriving together: OpenSSL decrypts one per read, and the ones still
    buffered inside it raise no epoll edge, so the gateway must not wait for one. Nagle is on
    and the records are written back to back, so they travel in as few segments as possible."""
    ctx = client_context(pki)
    with socket.create_connection((HOST, gw.port), timeout=5) as raw, ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.recv(0)   # the handshake is done (TLS 1.3 tickets may still be in flight)
        for i in range(20):
            last = i == 19
            s.send(f"GET /pub/{i} HTTP/1.1\r\nHost: localhost\r\n{'Connection: close' + chr(13) + chr(10) if last else ''}\r\n".encode())
        data = read_all(s)
    assert data.count(b"HTTP/1.1 200") == 20


def test_large_upload_and_download_through_tls(gw, pki, module_upstream):
    module_upstream.reset()
    body = os.urandom(3 * 1024 * 1024)
    with Conn_tls(gw.port, pki) as s:
        s.sendall(build_request("POST", "/api/sink", [("Content-Length", str(len(body))), ("Connection", "close")]) + body)
        data = read_all(s)
    head, _, payload = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    import hashlib
    assert json.loads(payload)["sha256"] == hashlib.sha256(body).hexdigest()
    with Conn_tls(gw.port, pki) as s:
        s.sendall(build_request("GET", "/api/big?n=5000000", [("Connection", "close")]))
        data = read_all(s)
    head, _, payload = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and len(payload) == 5_000_000


class Conn_tls:  # noqa: N801 - a context manager that reads like a constructor
    def __init__(self, port: int, pki):
        self.raw = socket.create_connection((HOST, port), timeout=10)
        self.s = client_context(pki).wrap_socket(self.raw, server_hostname="localhost")

    def __enter__(self):
        return self.s

    def __exit__(self, *exc):
        self.s.close()


def test_close_delimited_end_sends_close_notify(gw, pki):
    """A clean end of a response is a TLS close_notify (a truncation is distinguishable)."""
    ctx = client_context(pki)
    with socket.create_connection((HOST, gw.port), timeout=5) as raw, ctx.wrap_socket(raw, server_hostname="localhost",
                                                                                       suppress_ragged_eofs=False) as s:
        s.sendall(b"GET /pub/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)   # raises SSLEOFError on an EOF without close_notify
            if not chunk:
                break
            data += chunk
    assert b"hello over tls" in data


# -- client certificates -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mtls_gateways(module_gateways, pki):
    required = module_gateways.new("mtls-req").start(
        tls_listen(pki.main, extra=f"client_ca file:{pki.ca_cert}; client_certificate required;") + PUBLIC, listen=False)
    optional = module_gateways.new("mtls-opt").start(
        tls_listen(pki.main, extra=f"client_ca file:{pki.ca_cert}; client_certificate optional;") + PUBLIC, listen=False)
    return required, optional


def with_client_cert(pki, cert_key) -> ssl.SSLContext:
    ctx = client_context(pki)
    ctx.load_cert_chain(*cert_key)
    return ctx


def handshake_refused(port: int, ctx: ssl.SSLContext) -> bool:
    try:
        data, _ = tls_get(port, ctx)
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return True
    return not data.startswith(b"HTTP/1.1 200")


def test_client_certificate_required(mtls_gateways, pki):
    required, _ = mtls_gateways
    assert tls_get(required.port, with_client_cert(pki, pki.client))[0].startswith(b"HTTP/1.1 200")
    assert handshake_refused(required.port, client_context(pki)), "no certificate: refused"
    assert handshake_refused(required.port, with_client_cert(pki, pki.foreign_client)), "another CA: refused"


def test_client_certificate_optional(mtls_gateways, pki):
    _, optional = mtls_gateways
    assert tls_get(optional.port, with_client_cert(pki, pki.client))[0].startswith(b"HTTP/1.1 200")
    assert tls_get(optional.port, client_context(pki))[0].startswith(b"HTTP/1.1 200"), "no certificate: served"
    assert handshake_refused(optional.port, with_client_cert(pki, pki.foreign_client)), "a bad one is still refused"


@pytest.fixture(scope="module")
def mixed_listeners(module_gateways, pki):
    """One process, a listener without client certificates and one that requires them."""
    body = (tls_listen(pki.main)
            + tls_listen(pki.main, extra=f"client_ca file:{pki.ca_cert}; client_certificate required;")
            + "mtls { claims user_id=subject_cn; }\n"
            + 'route /svc/** { auth mtls; respond 200 "certificate accepted"; }\n' + PUBLIC)
    g = module_gateways.new("mixed").start(body, listen=False)
    plain, required = g.ports
    return plain, required


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_a_ticket_from_another_listener_does_not_skip_the_client_certificate(mixed_listeners, pki, version):
    plain, required = mixed_listeners
    ctx = client_context(pki, minimum_version=version, maximum_version=version)
    _, first = tls_get(plain, ctx)
    assert first.session is not None and first.session.has_ticket
    try:
        data, s = tls_get(required, ctx, session=first.session)
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return
    assert not data.startswith(b"HTTP/1.1 200"), "resumed past client_certificate required"
    assert not s.session_reused


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_a_listener_asking_for_client_certificates_resumes_nothing(mixed_listeners, pki, version):
    # A resumed session would carry a certificate verified earlier: since expired, under a
    # client_ca a reload replaced, or (on another listener) not asked for at all.
    plain, required = mixed_listeners
    ctx = with_client_cert(pki, pki.client)
    ctx.minimum_version = ctx.maximum_version = version
    data, first = tls_get(required, ctx, "/svc/x")
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    session = first.session
    assert session is None or not session.has_ticket, "a ticket was issued"
    data, again = tls_get(required, ctx, "/svc/x", session=session)
    assert data.startswith(b"HTTP/1.1 200") and not again.session_reused
    if session is not None:
        # Nor does the certificate travel to a listener that never asked for one.
        data, other = tls_get(plain, ctx, "/svc/x", session=session)
        assert not other.session_reused
        assert data.startswith(b"HTTP/1.1 401"), data[:200]


# -- reload ------------------------------------------------------------------------------------

def test_sighup_reloads_the_certificate_without_dropping_connections(gateways, pki, tmp_path):
    cert, key = tmp_path / "live.crt", tmp_path / "live.key"
    shutil.copy(pki.main[0], cert)
    shutil.copy(pki.main[1], key)
    g = gateways.new("tls-reload")
    g.start(tls_listen((str(cert), str(key))) + PUBLIC, listen=False)
    ctx = client_context(pki)
    raw = socket.create_connection((HOST, g.port), timeout=5)
    held = ctx.wrap_socket(raw, server_hostname="localhost")
    held.sendall(b"GET /pub/1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert held.recv(4096).startswith(b"HTTP/1.1 200")
    assert "CN = main" in peer_subject(g.port, "localhost")

    # The new pair is the "other" certificate, which covers other.test only.
    shutil.copy(pki.other[0], cert)
    shutil.copy(pki.other[1], key)
    g.signal(signal.SIGHUP)
    wait_until(lambda: "CN = other" in peer_subject(g.port, "localhost"), timeout=5, message="new certificate served")
    held.sendall(b"GET /pub/2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert read_all(held).startswith(b"HTTP/1.1 200"), "the open connection keeps working across the reload"
    held.close()

    # A broken key on the next reload keeps the running certificate.
    key.write_text("not a key\n")
    g.signal(signal.SIGHUP)
    wait_until(lambda: "config reload failed" in g.stdout_text() + g.stderr_text(), timeout=5, message="reload refused")
    assert "CN = other" in peer_subject(g.port, "localhost")


# -- configuration errors ------------------------------------------------------------------------

@pytest.mark.parametrize("listen,message", [
    ("listen 127.0.0.1:0 tls;", "needs a block"),
    ("listen 127.0.0.1:0 tls { }", "needs a certificate and its key"),
    ("listen 127.0.0.1:0 tls { certificate file:{main_crt}; }", "certificate without its key"),
    ("listen 127.0.0.1:0 tls { key file:{main_key}; }", "key without a certificate"),
    ("listen 127.0.0.1:0 tls { certificate file:{main_crt}; key file:{main_key}; ciphers ALL; }", "unknown directive \"ciphers\""),
    ("listen 127.0.0.1:0 tls { certificate file:{main_crt}; key file:{main_key}; client_certificate required; }", "needs client_ca"),
    ("listen 127.0.0.1:0 tls { certificate file:{main_crt}; key file:{main_key}; client_certificate maybe; }", "off, optional or required"),
    ("listen 127.0.0.1:0 tls { certificate file:/nonexistent.crt; key file:{main_key}; }", "/nonexistent.crt does not load"),
    ("listen 127.0.0.1:0 tls { certificate file:{main_crt}; key file:{other_key}; }", "does not match certificate"),
    ("listen 127.0.0.1:0 ssl { }", "expected \"tls\""),
])
def test_bad_tls_listener_is_a_check_config_error(gateway_bin, tmp_path, pki, listen, message):
    text = listen.replace("{main_crt}", pki.main[0]).replace("{main_key}", pki.main[1]).replace("{other_key}", pki.other[1])
    r = check_config(gateway_bin, tmp_path, text + "\n" + PUBLIC)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
    assert "t.conf:1:" in r.stderr, "the error names the listen line"


# -- HTTPS upstreams -----------------------------------------------------------------------------

def https_upstream(name: str, cert_key: tuple[str, str], client_ca: str | None = None) -> Upstream:
    """A started test upstream speaking TLS with `cert_key`; with `client_ca` it requires a
    client certificate from that CA."""
    up = Upstream(name)
    up.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    up.tls.load_cert_chain(*cert_key)
    if client_ca:
        up.tls.load_verify_locations(client_ca)
        up.tls.verify_mode = ssl.CERT_REQUIRED
    return up.start()


@pytest.fixture(scope="module")
def tls_upstream(pki):
    up = https_upstream("tls-up", pki.main)
    yield up
    up.stop()


@pytest.fixture(scope="module")
def expired_upstream(pki):
    up = https_upstream("expired-up", pki.expired)
    yield up
    up.stop()


def upstream_gateway(factory, name: str, lines: str, port: int, env=None):
    body = (f"upstream u {{\n    server https://127.0.0.1:{port};\n{lines}}}\n"
            "route /api/** { public; upstream u; }\n")
    return factory.new(name).start(body, env=env)


def test_https_upstream_with_its_ca_is_verified_and_pooled(gateways, pki, tls_upstream):
    tls_upstream.reset()
    g = upstream_gateway(gateways, "up-ok", f"    ca file:{pki.ca_cert};\n    keepalive 8;\n", tls_upstream.port)
    with Conn(g.port) as c:
        for i in range(5):
            assert echo(c.request("GET", f"/api/echo/{i}", [("Host", "gateway.test")]))["path"] == f"/api/echo/{i}"
    assert tls_upstream.connections == 1, "keep-alive: one TLS connection served five requests"
    assert tls_upstream.tls_failures == 0


def test_https_upstream_connections_offer_aes_128_first(gateways, pki):
    # The upstream lets the client's order decide (nginx's default, `ssl_prefer_server_ciphers
    # off`): the gateway offers Mozilla's TLS 1.3 order, AES-128-GCM first.
    up = Upstream("client-order-up")
    up.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    up.tls.load_cert_chain(*pki.main)
    up.tls.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    up.start()
    try:
        g = upstream_gateway(gateways, "up-suites", f"    ca file:{pki.ca_cert};\n", up.port)
        with Conn(g.port) as c:
            assert c.request("GET", "/api/x", [("Host", "gateway.test")]).status == 200
        assert up.tls_suites == ["TLS_AES_128_GCM_SHA256"]
    finally:
        up.stop()


def test_https_upstream_name_is_checked(gateways, pki, tls_upstream):
    tls_upstream.reset()
    g = upstream_gateway(gateways, "up-name", f"    ca file:{pki.ca_cert};\n    tls_server_name other.test;\n",
                         tls_upstream.port)
    assert_error(g.request("GET", "/api/x"), 502, "upstream_unavailable")
    assert "hostname mismatch" in g.stdout_text() + g.stderr_text()
    g2 = upstream_gateway(gateways, "up-name-ok", f"    ca file:{pki.ca_cert};\n    tls_server_name localhost;\n",
                          tls_upstream.port)
    assert echo(g2.request("GET", "/api/x"))["path"] == "/api/x"


def test_https_upstream_expired_certificate_is_refused(gateways, pki, expired_upstream):
    g = upstream_gateway(gateways, "up-expired", f"    ca file:{pki.ca_cert};\n", expired_upstream.port)
    assert_error(g.request("GET", "/api/x"), 502, "upstream_unavailable")
    assert "certificate has expired" in g.stdout_text() + g.stderr_text()


def test_https_upstream_uses_the_system_store_and_ssl_cert_file(gateways, pki, tls_upstream):
    g = upstream_gateway(gateways, "up-system", "", tls_upstream.port)
    assert_error(g.request("GET", "/api/x"), 502, "upstream_unavailable")
    assert "unable to get local issuer certificate" in g.stdout_text() + g.stderr_text()
    g2 = upstream_gateway(gateways, "up-env", "", tls_upstream.port, env={"SSL_CERT_FILE": pki.ca_cert})
    assert echo(g2.request("GET", "/api/x"))["path"] == "/api/x"


def test_https_upstream_with_verification_off_warns(gateway_bin, tmp_path, tls_upstream):
    r = check_config(gateway_bin, tmp_path, f"upstream u {{ server https://127.0.0.1:{tls_upstream.port}; tls_verify off; }}\n"
                     "route /api/** { public; upstream u; }\n", name="v.conf")
    assert r.returncode == 0, r.stderr
    assert "tls_verify off" in r.stderr + r.stdout


def test_upstream_client_certificate(gateways, pki):
    up = https_upstream("mtls-up", pki.main, client_ca=pki.ca_cert)
    try:
        g = upstream_gateway(gateways, "up-mtls", f"    ca file:{pki.ca_cert};\n", up.port)
        assert_error(g.request("GET", "/api/x"), 502, "upstream_unavailable")
        g2 = upstream_gateway(
            gateways, "up-mtls-ok",
            f"    ca file:{pki.ca_cert};\n    tls_certificate file:{pki.client[0]};\n    tls_key file:{pki.client[1]};\n",
            up.port)
        assert echo(g2.request("GET", "/api/x"))["path"] == "/api/x"
    finally:
        up.stop()


@pytest.mark.parametrize("lines,message", [
    ("server 127.0.0.1:9; ca file:/x.pem;", "TLS settings need https:// servers"),
    ("server https://127.0.0.1:9; tls_certificate file:/x.pem;", "tls_certificate needs tls_key"),
    ("server https://127.0.0.1:9; tls_verify maybe;", "tls_verify is on or off"),
    ("server https://127.0.0.1:9; tls_server_name bad_name!;", "must be a DNS name"),
    ("server https://127.0.0.1:9; ca file:/nonexistent.pem;", "ca /nonexistent.pem does not load"),
])
def test_bad_upstream_tls_is_a_check_config_error(gateway_bin, tmp_path, lines, message):
    r = check_config(gateway_bin, tmp_path, f"upstream u {{ {lines} }}\nroute /api/** {{ public; upstream u; }}\n", name="u.conf")
    assert r.returncode != 0
    assert message in r.stderr, r.stderr


# -- auth mtls ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mtls_auth(module_gateways, pki, module_upstream):
    pki.spiffe = pki.issue("spiffe", client=True, cn="svc-b", org="team-blue", uris=("spiffe://test/ns/a/sa/svc-b",))
    body = (tls_listen(pki.main, extra=f"client_ca file:{pki.ca_cert}; client_certificate optional;")
            + upstream_block("u", module_upstream.port)
            + "mtls { claims user_id=san_uri,subject_cn org_id=subject_o; roles agent; permissions memory:read; }\n"
            + "roles { agent memory:write; }\n"
            + "route /svc/** { auth mtls; require memory:write; upstream u; }\n"
            + PUBLIC)
    return module_gateways.new("mtls-auth").start(body, listen=False)


def test_auth_mtls_maps_the_certificate_to_the_identity_headers(mtls_auth, pki, module_upstream):
    module_upstream.reset()
    data, _ = tls_get(mtls_auth.port, with_client_cert(pki, pki.client), "/svc/x",
                      extra_headers="X-Auth-User-Id: admin\r\nAuthorization: Bearer forged\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data[:300]
    seen = {}
    for n, v in json.loads(body)["headers"]:
        seen.setdefault(n.lower(), []).append(v)
    assert seen["x-auth-user-id"] == ["agent-7"], "the certificate's CN, never the client's header"
    assert seen["x-auth-method"] == ["mtls"]
    assert seen["x-auth-roles"] == ["agent"]
    assert "memory:read" in seen["x-auth-permissions"][0] and "memory:write" in seen["x-auth-permissions"][0]
    assert seen["x-auth-key-id"][0].startswith("sha256:")
    assert "authorization" not in seen


def test_auth_mtls_prefers_the_uri_san_and_maps_the_organization(mtls_auth, pki, module_upstream):
    data, _ = tls_get(mtls_auth.port, with_client_cert(pki, pki.spiffe), "/svc/x")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data[:300]
    seen = {n.lower(): v for n, v in json.loads(body)["headers"]}
    assert seen["x-auth-user-id"] == "spiffe://test/ns/a/sa/svc-b"
    assert seen["x-auth-org-id"] == "team-blue"


def test_auth_mtls_refuses_an_unreadable_name_instead_of_taking_the_next(mtls_auth, pki):
    # user_id=san_uri,subject_cn: a URI SAN with a control byte must not hand the identity to
    # the CN (or to a later URI).
    bad = pki.issue("bad-uri", client=True, cn="admin", raw_uris=(b"spiffe://t/svc\x01", b"spiffe://t/admin"))
    data, _ = tls_get(mtls_auth.port, with_client_cert(pki, bad), "/svc/x")
    assert data.startswith(b"HTTP/1.1 401"), data[:300]
    assert b'"error":"invalid_token"' in data.replace(b" ", b""), data[:400]


def test_auth_mtls_refuses_a_subject_with_two_common_names(mtls_auth, pki):
    two = pki.issue("two-cns", client=True, cn="alice|admin")
    data, _ = tls_get(mtls_auth.port, with_client_cert(pki, two), "/svc/x")
    assert data.startswith(b"HTTP/1.1 401"), data[:300]


def test_auth_mtls_without_a_certificate_is_401(mtls_auth, pki):
    data, _ = tls_get(mtls_auth.port, client_context(pki), "/svc/x")
    assert data.startswith(b"HTTP/1.1 401"), data[:200]
    assert b"WWW-Authenticate: Bearer" in data
    assert tls_get(mtls_auth.port, client_context(pki), "/pub/x")[0].startswith(b"HTTP/1.1 200")


def test_auth_mtls_needs_a_listener_asking_for_certificates(gateway_bin, tmp_path, pki):
    r = check_config(gateway_bin, tmp_path, tls_listen(pki.main) + "route /svc/** { auth mtls; respond 200 \"x\"; }\n", name="m.conf")
    assert r.returncode != 0
    assert "no tls listener has client_certificate" in r.stderr, r.stderr


@pytest.mark.parametrize("block,message", [
    ("mtls { claims user_id=subject_xx; }", "names from subject_cn"),
    ("mtls { claims nickname=subject_cn; }", "unknown identity field \"nickname\""),
    ("mtls { trust all; }", "unknown directive \"trust\" inside \"mtls\""),
    ("mtls { roles ghost; }", "ghost"),
])
def test_bad_mtls_block_is_a_check_config_error(gateway_bin, tmp_path, pki, block, message):
    listen = tls_listen(pki.main, extra=f"client_ca file:{pki.ca_cert}; client_certificate required;")
    r = check_config(gateway_bin, tmp_path, listen
                     + block + "\nroute /svc/** { auth mtls; respond 200 \"x\"; }\n", name="m.conf")
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
