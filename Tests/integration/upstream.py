"""A byte-exact, threaded test upstream on raw sockets.

It records every request it reads (request line, headers in order with their raw names,
body bytes, trailers) and chooses its behaviour from the path: the first path segment that
names a behaviour wins (so `/api/v1/sse` and `/sse` both stream events), anything else is
echoed back as JSON.

Behaviours (query parameters in brackets):
    echo (default)      200, JSON of what was received
    sse [n, delay_ms, gate=1]
                        chunked text/event-stream, n events ("data: event-<i>\\n\\n"); with
                        gate=1 event i>0 is only written after `release_sse()` was called
    ws                  WebSocket handshake (Sec-WebSocket-Accept) then echo of every frame
    slow [ms]           sleep then echo
    hang                read the request, never answer (until the upstream stops)
    close-mid-body      head with Content-Length 1000, 10 body bytes, close
    chunked             chunked response "hello chunked world" in three chunks
    big [n, chunked=1]  n bytes of `pattern()` (Content-Length, or chunked)
    status/NNN          status NNN with a small body (none for 1xx/204/304)
    sink                body consumed without being stored; JSON {body_len, sha256}
    reset               read the request, then reset the connection (RST)
    silent-close        echo (keep-alive framing), then close the connection without notice
    garbage             answers bytes that are not HTTP, then closes
    hop-response        200 "hop" with hop-by-hop response headers (Connection-named, Keep-Alive)
    sink [delay_ms]     (see above) optionally waits before reading the body
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
import urllib.parse

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B55"
BEHAVIOURS = ("sse", "ws", "slow", "hang", "close-mid-body", "chunked", "big", "status", "sink",
              "reset", "silent-close", "garbage", "hop-response")

_BLOCK = bytes(range(256)) * 256  # 64 KiB


def recv_head(conn: socket.socket, buffered: bytes) -> tuple[bytes, bytes] | None:
    """Reads from `conn` until `buffered` holds a whole message head: (head without its final
    CRLF CRLF, the bytes after it), or None when the connection ends first."""
    while b"\r\n\r\n" not in buffered:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffered += chunk
    head, _, rest = buffered.partition(b"\r\n\r\n")
    return head, rest


def pattern_chunks(n: int, piece: int = len(_BLOCK)):
    """The deterministic byte stream of `/big` (byte i is i % 256): pieces totalling `n`."""
    assert piece % 256 == 0
    block = _BLOCK if piece == len(_BLOCK) else (_BLOCK * (piece // len(_BLOCK) + 1))[:piece]
    sent = 0
    while sent < n:
        take = min(piece, n - sent)
        yield block if take == piece else block[:take]
        sent += take


def pattern_sha256(n: int) -> str:
    h = hashlib.sha256()
    for piece in pattern_chunks(n):
        h.update(piece)
    return h.hexdigest()



def read_chunk_size(reader, trailers: list) -> int:
    """Reads one chunk-size line (extensions ignored); after the last chunk (size 0) also the
    trailer section, appending (name, value) pairs to `trailers`. `reader` has `read_until`."""
    line = reader.read_until(b"\r\n", limit=4096)[:-2]
    size = int(line.split(b";")[0].strip(), 16)
    if size == 0:
        while True:
            field = reader.read_until(b"\r\n", limit=65536)[:-2]
            if not field:
                break
            n, _, v = field.partition(b":")
            trailers.append((n.decode("latin-1"), v.strip().decode("latin-1")))
    return size


class _Closed(Exception):
    pass


class _Reader:
    """Buffered reads from a socket that give up when the upstream is stopping."""

    def __init__(self, sock: socket.socket, owner: "Upstream"):
        self.sock = sock
        self.owner = owner
        self.buf = bytearray()

    def _fill(self) -> None:
        while True:
            if self.owner.stopping.is_set():
                raise _Closed()
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                raise _Closed()
            if not data:
                raise _Closed()
            self.owner._count(len(data))
            self.buf += data
            return

    def read_until(self, marker: bytes, limit: int = 1 << 20) -> bytes:
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = bytes(self.buf[: i + len(marker)])
                del self.buf[: i + len(marker)]
                return out
            if len(self.buf) > limit:
                raise _Closed()
            self._fill()

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_some(self, max_n: int) -> bytes:
        if not self.buf:
            self._fill()
        out = bytes(self.buf[:max_n])
        del self.buf[:max_n]
        return out

    def at_eof_or_data(self) -> bool:
        """Waits for the next request; returns False when the peer closed."""
        if self.buf:
            return True
        try:
            self._fill()
            return True
        except _Closed:
            return False


class LoopbackServer:
    """A threaded server on a listener bound to 127.0.0.1 (port 0: any free port).

    An accept loop runs in its own thread; every accepted connection is counted
    (`connections`), tracked, given `conn_timeout` and served by `serve_conn(conn)` in a
    thread of its own, then closed. `stop()` sets `stopping`, closes the listener, shuts down
    the connections still open (so blocked reads and writes end), joins the threads and
    closes whatever is left. `lock` is a Condition that subclasses also use for their state."""

    conn_timeout: float | None = None
    # An `ssl.SSLContext` (server side) makes this an HTTPS server: each accepted connection
    # does its TLS handshake in its own thread before `serve_conn`; a failed handshake (the
    # gateway refusing the certificate) is counted in `tls_failures`; the suite of each
    # handshake is kept in `tls_suites`.
    tls = None

    def __init__(self, name: str = "up", port: int = 0):
        self.name = name
        self.tls_failures = 0
        self.tls_suites: list[str] = []
        self.lock = threading.Condition()
        self.connections = 0
        self.stopping = threading.Event()
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(256)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, name=f"upstream-{name}", daemon=True)

    def start(self):
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            clients = list(self._clients)
        for c in clients:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._accept_thread.join(timeout=3)
        for t in list(self._threads):
            t.join(timeout=2)
        with self.lock:
            clients = list(self._clients)
        for c in clients:  # only those whose thread did not finish in time
            try:
                c.close()
            except OSError:
                pass

    def serve_conn(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def wait_for(self, items: list, n: int, timeout: float) -> list | None:
        """Waits until `items` (a list appended to under `lock`, which is then notified) holds
        `n` entries: returns a copy of it, or None when `timeout` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(items) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.lock.wait(left)
            return list(items)

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(self.conn_timeout)
            with self.lock:
                self.connections += 1
                self._clients.add(conn)
            t = threading.Thread(target=self._run_conn, args=(conn,), daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
            t.start()

    def _run_conn(self, raw: socket.socket) -> None:
        conn = raw
        try:
            if self.tls is not None:
                try:
                    raw.settimeout(5)
                    conn = self.tls.wrap_socket(raw, server_side=True)
                    conn.settimeout(self.conn_timeout)
                    with self.lock:
                        self.tls_suites.append(conn.cipher()[0])
                except OSError:
                    with self.lock:
                        self.tls_failures += 1
                    return
            self.serve_conn(conn)
        finally:
            with self.lock:
                self._clients.discard(raw)
            try:
                conn.close()
            except OSError:
                pass


class Upstream(LoopbackServer):
    conn_timeout = 0.25

    def __init__(self, name: str = "up", port: int = 0):
        super().__init__(name, port)
        self.requests: list[dict] = []
        self.bytes_received = 0
        self.ws_unmasked_frames = 0
        self.sse_gate = threading.Semaphore(0)

    # -- lifecycle (start/stop: LoopbackServer) ---------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.connections = 0
            self.bytes_received = 0
            self.ws_unmasked_frames = 0
            self.sse_gate = threading.Semaphore(0)

    # -- observation -----------------------------------------------------------------------

    def _count(self, n: int) -> None:
        with self.lock:
            self.bytes_received += n

    def wait_requests(self, n: int, timeout: float = 5.0) -> list[dict]:
        got = self.wait_for(self.requests, n, timeout)
        if got is None:
            raise AssertionError(f"upstream {self.name}: expected {n} requests, got {len(self.requests)}")
        return got

    def release_sse(self, n: int = 1) -> None:
        for _ in range(n):
            self.sse_gate.release()

    @property
    def last(self) -> dict:
        with self.lock:
            assert self.requests, f"upstream {self.name} received no request"
            return self.requests[-1]

    # -- serving ---------------------------------------------------------------------------

    def serve_conn(self, conn: socket.socket) -> None:
        reader = _Reader(conn, self)
        try:
            while reader.at_eof_or_data():
                if not self._one_request(conn, reader):
                    break
        except _Closed:
            pass
        except Exception as exc:  # a test helper must never die silently
            with self.lock:
                self.requests.append({"error": repr(exc)})
                self.lock.notify_all()

    def _send(self, conn: socket.socket, data: bytes) -> None:
        conn.settimeout(30)
        try:
            conn.sendall(data)
        finally:
            conn.settimeout(0.25)

    def _one_request(self, conn: socket.socket, reader: _Reader) -> bool:
        head = reader.read_until(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        request_line = lines[0].decode("latin-1")
        parts = request_line.split(" ")
        method, target, version = (parts + ["", "", ""])[:3]
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))

        def get(name: str) -> str | None:
            for n, v in headers:
                if n.lower() == name.lower():
                    return v
            return None

        path, _, query = target.partition("?")
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        segments = [s for s in path.split("/") if s]
        behaviour, status_code = "echo", 200
        for i, seg in enumerate(segments):
            if seg in BEHAVIOURS:
                behaviour = seg
                if seg == "status" and i + 1 < len(segments) and segments[i + 1].isdigit():
                    status_code = int(segments[i + 1])
                break

        if (get("Expect") or "").lower() == "100-continue":
            self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")

        sink = behaviour == "sink"
        if sink and "delay_ms" in params:  # a slow reader: the body waits in the socket buffers
            self._sleep(int(params["delay_ms"]) / 1000)
        digest = hashlib.sha256()
        body = bytearray()
        body_len = 0
        trailers: list[tuple[str, str]] = []

        def take(data: bytes) -> None:
            nonlocal body_len
            body_len += len(data)
            if sink:
                digest.update(data)
            else:
                body.extend(data)

        te = get("Transfer-Encoding")
        cl = get("Content-Length")
        if te is not None and "chunked" in te.lower():
            while True:
                size = read_chunk_size(reader, trailers)
                if size == 0:
                    break
                left = size
                while left:
                    piece = reader.read_some(min(left, 1 << 20))
                    take(piece)
                    left -= len(piece)
                reader.read_exact(2)
        elif cl is not None:
            left = int(cl)
            while left:
                piece = reader.read_some(min(left, 1 << 20))
                take(piece)
                left -= len(piece)

        record = {
            "server": self.name,
            "request_line": request_line,
            "method": method,
            "target": target,
            "path": path,
            "query": query,
            "version": version,
            "headers": headers,
            "body": bytes(body),
            "body_len": body_len,
            "trailers": trailers,
            "time": time.monotonic(),
        }
        if sink:
            record["sha256"] = digest.hexdigest()
        with self.lock:
            self.requests.append(record)
            self.lock.notify_all()

        conn_hdr = (get("Connection") or "").lower()
        keep = version == "HTTP/1.1" and "close" not in conn_hdr

        if behaviour == "slow":
            self._sleep(int(params.get("ms", "1000")) / 1000)
            behaviour = "echo"
        if behaviour == "echo" or behaviour == "silent-close":
            self._respond_echo(conn, record, keep)
            return keep and behaviour != "silent-close"
        if behaviour == "sink":
            payload = json.dumps({"server": self.name, "body_len": body_len, "sha256": record["sha256"]}).encode()
            self._respond(conn, 200, [("Content-Type", "application/json")], payload, keep)
            return keep
        if behaviour == "garbage":
            self._send(conn, b"THIS IS NOT HTTP\r\n\r\n")
            time.sleep(0.05)
            return False
        if behaviour == "hop-response":
            self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive, X-Hop-Secret\r\n"
                             b"Keep-Alive: timeout=1\r\nX-Hop-Secret: 1\r\nX-End-To-End: 2\r\n"
                             b"Content-Length: 3\r\n\r\nhop")
            return keep
        if behaviour == "hang":
            self.stopping.wait()
            return False
        if behaviour == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if behaviour == "close-mid-body":
            self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
            time.sleep(0.05)
            return False
        if behaviour == "chunked":
            out = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
            out += b"" if keep else b"Connection: close\r\n"
            self._send(conn, out + b"\r\n")
            for piece in (b"hello ", b"chunked ", b"world"):
                self._send(conn, b"%x\r\n%s\r\n" % (len(piece), piece))
                time.sleep(0.02)
            self._send(conn, b"0\r\n\r\n")
            return keep
        if behaviour == "status":
            no_body = status_code < 200 or status_code in (204, 304)
            body_out = b"" if no_body else f"status {status_code}".encode()
            hdrs = [("Content-Type", "text/plain"), ("X-Upstream", self.name)]
            self._respond(conn, status_code, hdrs, body_out, keep, no_length=no_body)
            return keep
        if behaviour == "big":
            n = int(params.get("n", "1048576"))
            chunked = params.get("chunked") == "1"
            out = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            out += b"Transfer-Encoding: chunked\r\n" if chunked else b"Content-Length: %d\r\n" % n
            out += b"" if keep else b"Connection: close\r\n"
            self._send(conn, out + b"\r\n")
            for piece in pattern_chunks(n):
                if self.stopping.is_set():
                    return False
                self._send(conn, (b"%x\r\n%s\r\n" % (len(piece), piece)) if chunked else piece)
            if chunked:
                self._send(conn, b"0\r\n\r\n")
            return keep
        if behaviour == "sse":
            return self._respond_sse(conn, params, keep)
        if behaviour == "ws":
            self._websocket(conn, reader, get)
            return False
        raise AssertionError(f"unhandled behaviour {behaviour}")

    def _sleep(self, seconds: float) -> None:
        self.stopping.wait(seconds)

    def _respond(self, conn, status: int, headers, body: bytes, keep: bool, no_length: bool = False,
                 head_only: bool = False) -> None:
        out = [f"HTTP/1.1 {status} {_reason(status)}".encode()]
        for n, v in headers:
            out.append(f"{n}: {v}".encode("latin-1"))
        if not no_length:
            out.append(b"Content-Length: %d" % len(body))
        if not keep:
            out.append(b"Connection: close")
        if head_only:
            body = b""
        self._send(conn, b"\r\n".join(out) + b"\r\n\r\n" + body)

    def _respond_echo(self, conn, record: dict, keep: bool) -> None:
        payload = {k: v for k, v in record.items() if k not in ("body", "time")}
        payload["body"] = record["body"].decode("latin-1")
        body = json.dumps(payload).encode()
        self._respond(conn, 200, [("Content-Type", "application/json"), ("X-Upstream", self.name)], body, keep,
                      head_only=record["method"] == "HEAD")

    def _respond_sse(self, conn, params: dict, keep: bool) -> bool:
        n = int(params.get("n", "3"))
        delay = int(params.get("delay_ms", "0")) / 1000
        gated = params.get("gate") == "1"
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                b"Transfer-Encoding: chunked\r\n")
        head += b"" if keep else b"Connection: close\r\n"
        self._send(conn, head + b"\r\n")
        for i in range(n):
            if i > 0:
                if gated:
                    if not self.sse_gate.acquire(timeout=10):
                        return False  # the test never released: abandon the stream
                elif delay:
                    self._sleep(delay)
            if self.stopping.is_set():
                return False
            event = f"data: event-{i}\n\n".encode()
            self._send(conn, b"%x\r\n%s\r\n" % (len(event), event))
        self._send(conn, b"0\r\n\r\n")
        return keep

    def _websocket(self, conn, reader: _Reader, get) -> None:
        key = get("Sec-WebSocket-Key")
        upgrade = (get("Upgrade") or "").lower()
        connection = (get("Connection") or "").lower()
        if not key or upgrade != "websocket" or "upgrade" not in connection:
            self._respond(conn, 400, [("Content-Type", "text/plain")], b"not a websocket handshake", False)
            return
        accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
        self._send(conn, ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        while True:
            b0, b1 = reader.read_exact(2)
            opcode = b0 & 0x0F
            masked = bool(b1 & 0x80)
            length = b1 & 0x7F
            if length == 126:
                length = struct.unpack("!H", reader.read_exact(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", reader.read_exact(8))[0]
            mask = reader.read_exact(4) if masked else b"\0\0\0\0"
            if not masked:
                with self.lock:
                    self.ws_unmasked_frames += 1
            payload = ws_mask(reader.read_exact(length), mask)
            if opcode == 0x8:
                self._send(conn, ws_frame(0x8, payload[:2], mask=False))
                return
            if opcode == 0x9:
                self._send(conn, ws_frame(0xA, payload, mask=False))
                continue
            self._send(conn, ws_frame(opcode, payload, mask=False))


def ws_mask(data: bytes, mask: bytes) -> bytes:
    if not data:
        return b""
    # XOR with the repeated 4-byte key, done on big integers for speed.
    key = (mask * (len(data) // 4 + 1))[: len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(len(data), "big")


def ws_frame(opcode: int, payload: bytes, mask: bool, key: bytes = b"\x11\x22\x33\x44") -> bytes:
    b0 = 0x80 | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = bytes([b0, mbit | n])
    elif n < 65536:
        head = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    if mask:
        return head + key + ws_mask(payload, key)
    return head + payload


def _reason(status: int) -> str:
    return {100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 204: "No Content",
            301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 418: "I'm a teapot", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Status")
