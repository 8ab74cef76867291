"""The small HTTP(S) JSON servers the tests stand up for identity providers (discovery, JWKS,
introspection endpoints): a handler base that answers JSON and stays quiet, and a loopback
server, optionally TLS with a certificate from the test PKI, served from a daemon thread."""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import HOST


class JSONHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status: int, doc, raw: bytes | None = None) -> None:
        """`doc` as JSON (or `raw` bytes as they are) with a Content-Length."""
        body = raw if raw is not None else json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def loopback_server(handler: type[BaseHTTPRequestHandler], pki=None, name: str = "json") -> ThreadingHTTPServer:
    """A server on an ephemeral loopback port (not yet serving). With `pki`, it speaks TLS with a
    certificate for localhost and 127.0.0.1 that `pki` issues."""
    server = ThreadingHTTPServer((HOST, 0), handler)
    server.daemon_threads = True
    server.block_on_close = False   # a handler told to hang must not hold up shutdown
    if pki is not None:
        cert, key = pki.issue(f"{name}-{id(server)}", dns=("localhost",), ips=("127.0.0.1",))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    return server


def serve_in_background(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread
