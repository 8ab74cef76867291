"""SPEC §9 with a real Caddy in front: deploy/caddy/Caddyfile (`forward_auth` to the gateway's
decision endpoint) and deploy/caddy/gateway-for-caddy.conf, on loopback ports."""

import pytest

import frontends as fe

CADDY_GATEWAY_CONF = fe.DEPLOY / "caddy" / "gateway-for-caddy.conf"


@pytest.fixture(scope="module")
def gateway(module_gateways, module_upstream):
    return fe.start_gateway(module_gateways, CADDY_GATEWAY_CONF, module_upstream.port, "for-caddy")


@pytest.fixture(scope="module")
def caddy(tmp_path_factory, gateway, module_upstream):
    front = fe.start_caddy(tmp_path_factory.mktemp("caddy"), gateway.port, module_upstream.port)
    yield front
    front.stop()


def test_allowed_request_reaches_upstream_with_identity(caddy, module_upstream):
    fe.check_allowed_request_reaches_upstream_with_identity(caddy, module_upstream)


def test_public_route_is_anonymous(caddy, module_upstream):
    fe.check_public_route_is_anonymous(caddy, module_upstream)


def test_denials_never_reach_upstream(caddy, module_upstream):
    fe.check_denials_never_reach_upstream(caddy, module_upstream)


def test_denials_are_the_gateway_answers(caddy, module_upstream):
    r = caddy.request("GET", "/api/admin/users", fe.bearer())
    assert r.status == 403 and r.json()["error"] == "insufficient_scope", r
    assert r.header("X-Auth-Error") == "insufficient_scope"


def test_scope_and_query_token_allow(caddy, module_upstream):
    fe.check_scope_and_query_token_allow(caddy, module_upstream)


def test_client_descriptions_are_not_believed(caddy, module_upstream):
    fe.check_client_descriptions_are_not_believed(caddy, module_upstream)


def test_untrusted_gateway_never_allows(module_gateways, tmp_path_factory, module_upstream):
    untrusting = fe.start_gateway(module_gateways, CADDY_GATEWAY_CONF, module_upstream.port, "caddy-untrusted",
                                  edits=[("trust_proxies 127.0.0.1/32;", "trust_proxies 10.0.0.0/8;")])
    front = fe.start_caddy(tmp_path_factory.mktemp("caddy-untrusted"), untrusting.port, module_upstream.port)
    try:
        fe.check_untrusted_gateway_never_allows(front, module_upstream)
    finally:
        front.stop()
