"""SPEC §10 agent self-registration: `POST /_gateway/register` with the registration token as
Bearer creates an agent principal and returns its first API key once; a wrong token is an
authentication failure like any other."""

import pytest

from conftest import upstream_block, wait_until

requests = pytest.importorskip("requests", reason="requests is installed by scripts/test.sh")

TOKEN = "registration-token-0123456789abcdef"


def start(factory, upstream_port, db, **kw):
    body = (upstream_block("u", upstream_port)
            + f"store sqlite {db};\napi_keys {{ }}\nroles {{ agent memory:read; }}\n"
            + "registration { require_token env:REGISTRATION_TOKEN; roles agent; }\n"
            + "route /api/memory/** { require memory:read; upstream u; }\nroute /api/** { upstream u; }\n")
    gw = factory.new("registration").start(body, env={"REGISTRATION_TOKEN": TOKEN}, **kw)
    gw.base = f"http://127.0.0.1:{gw.port}"
    return gw


@pytest.fixture(scope="module")
def gw(module_gateways, module_upstream, tmp_path_factory):
    return start(module_gateways, module_upstream.port, tmp_path_factory.mktemp("registration") / "store.db")


def register(gw, token=TOKEN, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(gw.base + "/_gateway/register", json=body if body is not None else {"name": "Research agent",
                         "owner_email": "owner@example.com"}, headers=headers, timeout=10)


def test_registration_creates_an_agent_and_its_first_key(gw):
    r = register(gw)
    assert r.status_code == 201, r.text
    assert r.headers["Cache-Control"] == "no-store"
    doc = r.json()
    assert doc["principal"].startswith("agent-") and doc["roles"] == ["agent"] and doc["key"].startswith("gw_")
    # The key works at once (within the index refresh), with the role's permissions.
    echo = wait_until(lambda: (lambda resp: resp.status_code == 200 and resp.json())(
        requests.get(gw.base + "/api/memory/x", headers={"X-API-Key": doc["key"]}, timeout=5)), timeout=3,
        message="the registered key works")
    headers = {k.lower(): v for k, v in echo["headers"]}
    assert headers["x-auth-user-id"] == doc["principal"] and headers["x-auth-permissions"] == "memory:read"
    # Two registrations are two agents.
    assert register(gw).json()["principal"] != doc["principal"]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": " padded"}, {"name": "a", "extra": 1}, {"name": 5}])
def test_bad_bodies_are_400(gw, body):
    r = register(gw, body=body)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_get_is_405(gw):
    r = requests.get(gw.base + "/_gateway/register", timeout=5)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"


def test_missing_and_wrong_tokens(gateways, module_upstream, tmp_path):
    gw = start(gateways, module_upstream.port, tmp_path / "store.db", auth_failure_limit="3/min burst=3")
    r = register(gw, token=None)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    statuses = [register(gw, token="wrong-token-0123456789").status_code for _ in range(4)]
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429
    # Locked out, the right token waits too.
    assert register(gw).status_code == 429
