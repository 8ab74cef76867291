"""Fixtures and helpers for the black-box integration suite (see README.md)."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from upstream import Upstream, read_chunk_size  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HOST = "127.0.0.1"

# -- TLS mode --------------------------------------------------------------------------------
# With GATEWAY_TEST_TLS=1 every gateway's public listener is a TLS listener (a test CA's
# certificate for localhost / 127.0.0.1) and `Conn` speaks TLS to it: scripts/test.sh runs the
# suites whose behaviour must not differ over TLS (smuggling rejections, streaming, SSE,
# WebSocket) a second time this way.
TLS_MODE = os.environ.get("GATEWAY_TEST_TLS") == "1"
# Ports (public listeners) that speak TLS; `Conn` wraps its socket for these.
TLS_PORTS: set[int] = set()
_TLS_MATERIAL: dict[str, str] = {}


def test_tls_material() -> dict[str, str]:
    """The TLS mode's CA, certificate and key (made once per run)."""
    if not _TLS_MATERIAL:
        import tempfile
        from tlspki import PKI
        pki = PKI(Path(tempfile.mkdtemp(prefix="gw-tls-")))
        cert, key = pki.issue("localhost", dns=("localhost", "gateway.test"), ips=("127.0.0.1",))
        _TLS_MATERIAL.update(ca=pki.ca_cert, cert=cert, key=key)
    return _TLS_MATERIAL


test_tls_material.__test__ = False  # a helper, not a test


def tls_client_context(ca: str | None = None):
    import ssl
    ctx = ssl.create_default_context(cafile=ca or test_tls_material()["ca"])
    return ctx


# -- the binary ------------------------------------------------------------------------------

def gateway_bin_path() -> Path:
    return Path(os.environ.get("GATEWAY_BIN", REPO / ".build" / "release" / "gateway"))


@pytest.fixture(scope="session")
def gateway_bin() -> Path:
    path = gateway_bin_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"gateway binary not found at {path}: build it (swift build -c release) "
            f"or point GATEWAY_BIN at it", pytrace=False)
    return path


def run_cli(bin_path: Path, *args: str, cwd=None, env=None, timeout: float = 20) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.pop("GATEWAY_CONFIG", None)
    if env:
        full_env.update(env)
    return subprocess.run([str(bin_path), *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def check_config(bin_path: Path, tmp_path: Path, text: str, name: str = "t.conf") -> subprocess.CompletedProcess:
    """Writes `text` to `tmp_path/name` and runs `gateway check-config` on it."""
    conf = tmp_path / name
    conf.write_text(text)
    return run_cli(bin_path, "check-config", "--config", str(conf))


# -- ports -----------------------------------------------------------------------------------

def free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused)."""
    return free_port()


@pytest.fixture(name="free_port")
def free_port_fixture() -> int:
    return free_port()


def wait_listening(port: int, timeout: float = 10.0, proc: subprocess.Popen | None = None,
                   describe=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"gateway exited with {proc.returncode} before listening on {port}\n{describe()}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError as exc:
            last = exc
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {HOST}:{port} after {timeout}s ({last})\n{describe()}")


# -- upstreams -------------------------------------------------------------------------------

@pytest.fixture
def upstream():
    up = Upstream("up1").start()
    yield up
    up.stop()


@pytest.fixture
def upstream2():
    up = Upstream("up2").start()
    yield up
    up.stop()


@pytest.fixture(scope="module")
def module_upstream():
    up = Upstream("mod").start()
    yield up
    up.stop()


def upstream_block(name: str, *ports: int, extra: str = "", server_opts: str = "") -> str:
    servers = "".join(f"    server {HOST}:{p}{(' ' + server_opts) if server_opts else ''};\n" for p in ports)
    return f"upstream {name} {{\n{servers}{extra}}}\n"


# -- the gateway process -----------------------------------------------------------------------

class Gateway:
    """One `gateway serve` process with its config file and captured output."""

    def __init__(self, bin_path: Path, workdir: Path, name: str = "gw"):
        self.bin = bin_path
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.config_path = self.dir / f"{name}.conf"
        self.stdout_path = self.dir / f"{name}.stdout"
        self.stderr_path = self.dir / f"{name}.stderr"
        # The gateway binds port 0 and reports what it bound in its ready file (no port race);
        # `port`/`admin_port` hold the bound ports once started. Set `listen_port` to ask for a
        # particular port.
        self.listen_port = 0
        self.port = 0
        self.admin_port: int | None = None
        self.wants_admin = False
        self.ready_path = self.dir / f"{name}.ready"
        self.tls_listener = False
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None

    # config -----------------------------------------------------------------------------

    def config(self, body: str, *, workers: int | str = 1, access_log: str = "off", admin: bool = False,
               listen: bool = True, auth_failure_limit: str | None = "off") -> str:
        head = []
        # Most suites send many bad credentials from 127.0.0.1 on purpose; the failure limiter
        # (SPEC §7) has its own tests.
        if auth_failure_limit is not None and "auth_failure_limit" not in body:
            head.append(f"auth_failure_limit {auth_failure_limit};")
        if listen and TLS_MODE:
            m = test_tls_material()
            head.append(f"listen {HOST}:{self.listen_port} tls {{ certificate file:{m['cert']}; key file:{m['key']}; }}")
            self.tls_listener = True
        elif listen:
            head.append(f"listen {HOST}:{self.listen_port};")
        if admin:
            self.wants_admin = True
            head.append(f"admin_listen {HOST}:0;")
        if workers is not None:
            head.append(f"workers {workers};")
        if access_log is not None:
            head.append(f"access_log {access_log};")
        return "\n".join(head) + "\n" + body

    def write_config(self, text: str) -> Path:
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.config_path)
        return self.config_path

    # process ------------------------------------------------------------------------------

    def start(self, body: str | None = None, *, raw_config: str | None = None, wait: bool = True,
              env: dict | None = None, args: list[str] | None = None, **config_kw) -> "Gateway":
        if raw_config is not None:
            self.write_config(raw_config)
        elif body is not None:
            self.write_config(self.config(body, **config_kw))
        full_env = dict(os.environ)
        full_env.pop("GATEWAY_CONFIG", None)
        if env:
            full_env.update(env)
        if self.ready_path.exists():
            self.ready_path.unlink()
        if args is None:
            args = ["--config", str(self.config_path)]
        if "--ready-file" not in args:
            args = args + ["--ready-file", str(self.ready_path)]
        cmd = [str(self.bin), "serve"] + args
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.dir, env=full_env, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err)
        if wait:
            self._read_ready_file(10)
        return self

    def _read_ready_file(self, timeout: float) -> None:
        """Waits for the ready file and takes the bound ports from it (the last of each kind)."""
        deadline = time.monotonic() + timeout
        while not self.ready_path.exists():
            if self.proc.poll() is not None:
                raise AssertionError(f"gateway exited with {self.proc.returncode} before listening\n{self.describe()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"gateway not ready after {timeout}s\n{self.describe()}")
            time.sleep(0.02)
        self.ports = []   # every `listen`, in order
        for line in self.ready_path.read_text().splitlines():
            kind, _, address = line.partition(" ")
            port = int(address.rsplit(":", 1)[1])
            if kind == "listen":
                self.port = port
                self.ports.append(port)
                if self.tls_listener:
                    TLS_PORTS.add(port)
            elif kind == "admin_listen":
                self.admin_port = port

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        assert self.proc is not None and self.proc.poll() is None, f"gateway not running\n{self.describe()}"
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float = 15.0) -> int:
        assert self.proc is not None
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise AssertionError(f"gateway did not exit within {timeout}s\n{self.describe()}")
        finally:
            self._close_files()
        return self.returncode

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit code (asserting is the caller's business)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def _close_files(self) -> None:
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f is not None and not f.closed:
                f.close()

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def stdout_text(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def describe(self) -> str:
        cfg = self.config_path.read_text() if self.config_path.exists() else "<none>"
        return (f"--- config {self.config_path}\n{cfg}\n--- stderr (tail)\n{self.stderr_text()[-3000:]}"
                f"\n--- stdout (tail)\n{self.stdout_text()[-1000:]}")

    def reload(self, body: str | None = None, *, raw_config: str | None = None, **config_kw) -> None:
        if raw_config is not None:
            self.write_config(raw_config)
        else:
            self.write_config(self.config(body, **config_kw))
        self.signal(signal.SIGHUP)

    def vm_hwm_kib(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc status")

    # clients --------------------------------------------------------------------------------

    def connect(self, timeout: float = 5.0) -> "Conn":
        return Conn(self.port, timeout)

    def request(self, method: str, path: str, headers=None, body: bytes = b"", timeout: float = 10.0,
                host: str | None = None) -> "Response":
        return request(self.port, method, path, headers, body, timeout, host)


class GatewayFactory:
    def __init__(self, bin_path: Path, base: Path):
        self.bin = bin_path
        self.base = base
        self.started: list[Gateway] = []

    def new(self, name: str | None = None) -> Gateway:
        gw = Gateway(self.bin, self.base, name or f"gw{len(self.started)}")
        self.started.append(gw)
        return gw

    def start(self, body: str, **kw) -> Gateway:
        return self.new().start(body, **kw)

    def close(self) -> None:
        problems = []
        for gw in self.started:
            if gw.proc is None or gw.returncode is not None:
                continue
            if gw.proc.poll() is not None:
                problems.append(f"gateway {gw.name} died during the test with {gw.proc.returncode}\n{gw.describe()}")
                gw._close_files()
                continue
            rc = gw.stop()
            if rc != 0:
                problems.append(f"gateway {gw.name} exited {rc} on SIGTERM (expected 0)\n{gw.describe()}")
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def gateways(gateway_bin, tmp_path):
    factory = GatewayFactory(gateway_bin, tmp_path)
    yield factory
    factory.close()


@pytest.fixture(scope="module")
def module_gateways(gateway_bin, tmp_path_factory):
    factory = GatewayFactory(gateway_bin, tmp_path_factory.mktemp("gw"))
    yield factory
    factory.close()


# -- raw HTTP client -------------------------------------------------------------------------

class IncompleteResponse(Exception):
    """The connection ended before a complete response was read."""


class Response:
    def __init__(self, version: str, status: int, reason: str, headers: list[tuple[str, str]], body: bytes,
                 trailers=None, raw_head: bytes = b""):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.trailers = trailers or []
        self.raw_head = raw_head

    def header(self, name: str) -> str | None:
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def header_all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise AssertionError(f"response body is not JSON: {self.body[:300]!r}") from exc

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.headers!r} body={self.body[:200]!r}>"


class Conn:
    """A raw client connection with a read buffer; every operation has a timeout."""

    def __init__(self, port: int, timeout: float = 5.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.settimeout(timeout)
        if port in TLS_PORTS:
            self.sock = tls_client_context().wrap_socket(self.sock, server_hostname="localhost")
        self.buf = bytearray()
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def settimeout(self, t: float) -> None:
        self.sock.settimeout(t)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_until_answered(self, data: bytes, within: float = 8.0) -> None:
        """Sends `data` until all of it is taken or the peer answers or closes first, from
        this one thread: a TLS socket must never be written and read by two threads at once
        (OpenSSL sessions are not thread-safe), so the answer is watched between writes."""
        view = memoryview(data)
        deadline = time.monotonic() + within
        timeout = self.sock.gettimeout()
        self.sock.setblocking(False)
        try:
            while view and time.monotonic() < deadline:
                readable, writable, _ = select.select([self.sock], [self.sock], [], 0.1)
                if readable and self._take_nonblocking():
                    return
                if not writable:
                    continue
                try:
                    view = view[self.sock.send(view[:65536]):]
                except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                    continue
                except OSError:
                    return
        finally:
            self.sock.settimeout(timeout)

    def _take_nonblocking(self) -> bool:
        """One non-blocking read into the buffer. True when the peer sent data or closed;
        false when nothing arrived (with TLS: only handshake records such as tickets)."""
        try:
            data = self.sock.recv(262144)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            return False
        except OSError:
            data = b""
        if not data:
            self.eof = True
            return True
        self.buf += data
        return True

    def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            data = self.sock.recv(262144)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_until(self, marker: bytes, limit: int = 1 << 20) -> bytes:
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = bytes(self.buf[: i + len(marker)])
                del self.buf[: i + len(marker)]
                return out
            if len(self.buf) > limit:
                raise AssertionError(f"no {marker!r} within {limit} bytes")
            if not self._fill():
                raise IncompleteResponse(f"connection closed while waiting for {marker!r}; got {bytes(self.buf)[:300]!r}")

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise IncompleteResponse(f"connection closed after {len(self.buf)} of {n} bytes")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_some(self) -> bytes:
        if not self.buf and not self._fill():
            return b""
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def read_head(self) -> tuple[str, int, str, list[tuple[str, str]], bytes]:
        raw = self.read_until(b"\r\n\r\n", limit=1 << 20)
        lines = raw[:-4].split(b"\r\n")
        status_line = lines[0].decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise AssertionError(f"bad status line {status_line!r}")
        headers = []
        for line in lines[1:]:
            n, _, v = line.partition(b":")
            headers.append((n.decode("latin-1"), v.strip(b" \t").decode("latin-1")))
        return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "", headers, raw

    def read_response(self, method: str = "GET", allow_interim: bool = False, body_sink=None) -> Response:
        """Reads one response (interim 1xx responses are skipped unless allow_interim).

        body_sink(bytes) receives the body pieces instead of storing them (large bodies)."""
        while True:
            version, status, reason, headers, raw = self.read_head()
            if 100 <= status < 200 and status != 101 and not allow_interim:
                continue
            break
        resp = Response(version, status, reason, headers, b"", raw_head=raw)
        body = bytearray()

        def take(piece: bytes) -> None:
            if body_sink is not None:
                body_sink(piece)
            else:
                body.extend(piece)

        te = (resp.header("Transfer-Encoding") or "").lower()
        cl = resp.header("Content-Length")
        if method == "HEAD" or 100 <= status < 200 or status in (204, 304):
            pass
        elif te:
            if te != "chunked":
                raise AssertionError(f"unexpected response Transfer-Encoding {te!r}")
            while True:
                size = read_chunk_size(self, resp.trailers)
                if size == 0:
                    break
                left = size
                while left:
                    if not self.buf and not self._fill():
                        raise IncompleteResponse("connection closed inside a chunk")
                    piece = bytes(self.buf[:left])
                    del self.buf[:left]
                    take(piece)
                    left -= len(piece)
                if self.read_exact(2) != b"\r\n":
                    raise AssertionError("chunk not followed by CRLF")
        elif cl is not None:
            left = int(cl)
            while left:
                if not self.buf and not self._fill():
                    raise IncompleteResponse(f"connection closed with {left} of {cl} body bytes missing")
                piece = bytes(self.buf[:left])
                del self.buf[:left]
                take(piece)
                left -= len(piece)
        else:
            while True:
                if self.buf:
                    take(bytes(self.buf))
                    self.buf.clear()
                if not self._fill():
                    break
        resp.body = bytes(body)
        return resp

    def request(self, method: str, path: str, headers=None, body: bytes = b"", host: str | None = "gateway.test",
                read: bool = True) -> Response | None:
        self.send(build_request(method, path, headers, body, host))
        return self.read_response(method) if read else None

    def wait_closed(self, timeout: float = 3.0) -> bool:
        """True when the peer closes (FIN or RST) within timeout, ignoring any bytes before that."""
        deadline = time.monotonic() + timeout
        old = self.sock.gettimeout()
        try:
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    return False
                except (ConnectionResetError, BrokenPipeError):
                    return True
                if not data:
                    return True
                self.buf += data
            return False
        finally:
            self.sock.settimeout(old)


def build_request(method: str, path: str, headers=None, body: bytes = b"", host: str | None = "gateway.test",
                  version: str = "HTTP/1.1") -> bytes:
    lines = [f"{method} {path} {version}"]
    hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {n.lower() for n, _ in hdrs}
    if host is not None and "host" not in names:
        lines.append(f"Host: {host}")
    if body and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    for n, v in hdrs:
        lines.append(f"{n}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def request(port: int, method: str, path: str, headers=None, body: bytes = b"", timeout: float = 10.0,
            host: str | None = None) -> Response:
    with Conn(port, timeout) as c:
        hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        if not any(n.lower() == "connection" for n, _ in hdrs):
            hdrs.append(("Connection", "close"))
        return c.request(method, path, hdrs, body, host=host or "gateway.test")


def send_raw(port: int, data: bytes, timeout: float = 5.0) -> tuple[Response | None, bool, bytes]:
    """Sends raw bytes; returns (first response or None, closed-afterwards?, leftover bytes)."""
    with Conn(port, timeout) as c:
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            resp = c.read_response()
        except IncompleteResponse:
            return None, True, bytes(c.buf)
        closed = c.wait_closed(3.0)
        return resp, closed, bytes(c.buf)


def chunked(*pieces: bytes, trailers: str = "") -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p)
    return out + b"0\r\n" + trailers.encode() + b"\r\n"


def assert_error(resp: Response, status: int, code: str) -> dict:
    assert resp is not None, "no response"
    assert resp.status == status, f"expected {status} {code}, got {resp!r}"
    ctype = resp.header("Content-Type") or ""
    assert ctype.split(";")[0].strip().lower() == "application/json", f"error Content-Type {ctype!r}"
    doc = resp.json()
    assert isinstance(doc, dict), doc
    assert doc.get("error") == code, f"expected error {code!r}, got {doc!r}"
    assert isinstance(doc.get("error_description"), str), doc
    assert isinstance(doc.get("request_id"), str) and doc["request_id"], doc
    return doc


def echo(resp: Response) -> dict:
    """The upstream's echo document from a proxied response."""
    assert resp.status == 200, f"expected a proxied 200, got {resp!r}"
    return resp.json()


def hdr(headers: list, name: str) -> list[str]:
    """All values of `name` (case-insensitive) in a [name, value] list."""
    return [v for n, v in headers if n.lower() == name.lower()]


def fd_count(pid: int) -> int:
    """The descriptors a process holds open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: large transfers (still run by default)")
