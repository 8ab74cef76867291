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


@pytest.mark.parametrize("check", fe.CHECKS, ids=fe.CHECK_IDS)
def test_shared_checks(caddy, module_upstream, check):
    check(caddy, module_upstream)


def test_denials_are_the_gateway_answers(caddy, module_upstream):
    r = caddy.request("GET", "/api/admin/users", fe.bearer())
    assert r.status == 403 and r.json()["error"] == "insufficient_scope", r
    assert r.header("X-Auth-Error") == "insufficient_scope"


def test_untrusted_gateway_never_allows(module_gateways, tmp_path_factory, module_upstream):
    fe.check_behind_untrusting_gateway(module_gateways, tmp_path_factory, module_upstream, CADDY_GATEWAY_CONF, fe.start_caddy, "caddy")
