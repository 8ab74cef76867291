"""SPEC §9 with a real nginx in front: deploy/nginx/gateway.conf (`auth_request` to the
gateway's decision endpoint) and deploy/nginx/gateway-for-nginx.conf, on loopback ports."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import frontends as fe
from conftest import HOST

NGINX_GATEWAY_CONF = fe.DEPLOY / "nginx" / "gateway-for-nginx.conf"


@pytest.fixture(scope="module")
def gateway(module_gateways, module_upstream):
    return fe.start_gateway(module_gateways, NGINX_GATEWAY_CONF, module_upstream.port, "for-nginx")


@pytest.fixture(scope="module")
def nginx(tmp_path_factory, gateway, module_upstream):
    front = fe.start_nginx(tmp_path_factory.mktemp("nginx"), gateway.port, module_upstream.port)
    yield front
    front.stop()


@pytest.mark.parametrize("check", fe.CHECKS, ids=fe.CHECK_IDS)
def test_shared_checks(nginx, module_upstream, check):
    check(nginx, module_upstream)


def test_request_id_is_shared_with_the_gateway(nginx, module_upstream, gateway):
    module_upstream.reset()
    doc = fe.echo(nginx.request("GET", "/api/correlate", fe.bearer()))
    ids = fe.hdr(doc["headers"], "X-Request-Id")
    assert len(ids) == 1 and len(ids[0]) == 32, doc["headers"]   # nginx's $request_id, kept by the gateway


def test_denials_carry_the_gateway_code(nginx, module_upstream):
    r = nginx.request("GET", "/api/admin/users", fe.bearer())
    assert r.status == 403 and r.json()["error"] == "insufficient_scope", r
    r = nginx.request("GET", "/internal/x", fe.bearer())
    assert r.status == 403 and r.json()["error"] == "access_denied", r


def test_decision_location_is_internal(nginx, module_upstream):
    module_upstream.reset()
    assert nginx.request("GET", "/_gateway/auth", fe.bearer()).status == 404
    assert module_upstream.requests == []


def test_untrusted_gateway_never_allows(module_gateways, tmp_path_factory, module_upstream):
    fe.check_behind_untrusting_gateway(module_gateways, tmp_path_factory, module_upstream, NGINX_GATEWAY_CONF, fe.start_nginx, "nginx")


def test_missing_original_uri_never_allows(gateway, tmp_path_factory, module_upstream):
    front = fe.start_nginx(tmp_path_factory.mktemp("nginx-no-uri"), gateway.port, module_upstream.port,
                           edits=[("proxy_set_header X-Original-URI $request_uri;", "")])
    try:
        fe.check_untrusted_gateway_never_allows(front, module_upstream)
    finally:
        front.stop()


class _RateLimitedDecider(BaseHTTPRequestHandler):
    """Answers every decision as the gateway does for nginx when over the limit."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = b'{"error":"rate_limited"}'
        self.send_response(403)
        self.send_header("X-Auth-Error", "rate_limited")
        self.send_header("Retry-After", "7")
        self.send_header("X-Request-Id", "rl-1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_rate_limit_403_becomes_429_for_the_client(tmp_path_factory, module_upstream):
    """The @denied mapping of deploy/nginx/gateway.conf (the decider is a stub answering as the
    gateway's decision endpoint does for a rate-limited nginx request, SPEC §9)."""
    server = ThreadingHTTPServer((HOST, 0), _RateLimitedDecider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    front = fe.start_nginx(tmp_path_factory.mktemp("nginx-rl"), server.server_address[1], module_upstream.port)
    try:
        module_upstream.reset()
        r = front.request("GET", "/api/x", fe.bearer())
        assert r.status == 429, r
        assert r.header("Retry-After") == "7"
        assert r.json()["error"] == "rate_limited"
        time.sleep(0.1)
        assert module_upstream.requests == []
    finally:
        front.stop()
        server.shutdown()
        server.server_close()
