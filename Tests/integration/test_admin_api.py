"""SPEC §11 admin API on the admin listener: authentication (never open; admin:read to read,
admin:write to change), principals and keys whose changes reach the public listener within a
second, revocations, the audit trail, and the OpenAPI 3.1 document, validated by
openapi-spec-validator and exercised by schemathesis (which must find no server error and no
answer that contradicts the document)."""

import json
import socket
import subprocess
import sys
import time

import pytest

from conftest import run_cli, upstream_block, wait_until

requests = pytest.importorskip("requests", reason="requests is installed by scripts/test.sh")
jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")

SECRET = "admin-api-integration-secret-0123456789abcdef"


class Admin:
    def __init__(self, gw, gateway_bin):
        self.gw, self.bin = gw, gateway_bin
        self.base = f"http://127.0.0.1:{gw.admin_port}"
        self.public = f"http://127.0.0.1:{gw.port}"
        self.token = self.jwt("ops-root", ["admin:read", "admin:write"])

    def jwt(self, sub, permissions, iat=None):
        now = int(time.time())
        return jwt.encode({"sub": sub, "aud": "api", "iss": "https://gw.test", "iat": iat or now, "exp": now + 600,
                           "scope": " ".join(permissions)}, SECRET, algorithm="HS256", headers={"typ": "at+jwt", "kid": "t"})

    def call(self, method, path, body=None, token=None, headers=None, **params):
        headers = dict(headers or {})
        if token is not False:
            headers["Authorization"] = "Bearer " + (token or self.token)
        return requests.request(method, self.base + path, json=body, headers=headers, params=params or None, timeout=10)

    def ok(self, method, path, body=None, status=200, **params):
        r = self.call(method, path, body, **params)
        assert r.status_code == status, r.text
        assert r.headers["Cache-Control"] == "no-store"
        return r.json()

    def through_public(self, key):
        return requests.get(self.public + "/api/x", headers={"X-API-Key": key}, timeout=10).status_code


@pytest.fixture(scope="module")
def admin(module_gateways, module_upstream, gateway_bin, tmp_path_factory):
    db = tmp_path_factory.mktemp("admin") / "store.db"
    body = (upstream_block("u", module_upstream.port)
            + f'tokens {{ signing_key t HS256 "{SECRET}"; issuer https://gw.test; audience api; }}\n'
            + f"store sqlite {db};\napi_keys {{ }}\n"
            + "route /api/** { require memory:read; upstream u; }\n")
    gw = module_gateways.new("admin").start(body, admin=True)
    return Admin(gw, gateway_bin)


# -- authentication ---------------------------------------------------------------------------

def test_without_a_credential_the_admin_api_is_closed(admin):
    r = admin.call("GET", "/admin/principals", token=False)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_read_and_write_need_their_permissions(admin):
    reader = admin.jwt("reader", ["admin:read"])
    assert admin.call("GET", "/admin/keys", token=reader).status_code == 200
    r = admin.call("POST", "/admin/principals", {"id": "x"}, token=reader)
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    nobody = admin.jwt("nobody", ["memory:read"])
    assert admin.call("GET", "/admin/keys", token=nobody).status_code == 403
    assert admin.call("GET", "/admin/keys", token="garbage").status_code == 401


def test_admin_api_is_not_on_the_public_listener(admin):
    r = requests.get(admin.public + "/admin/principals", headers={"Authorization": "Bearer " + admin.token}, timeout=5)
    assert r.status_code == 404


def test_health_and_readiness(admin):
    for path in ("/healthz", "/readyz"):
        assert requests.get(admin.base + path, timeout=5).status_code == 200


def test_an_admin_listener_without_any_credential_method_answers_401(gateways, module_upstream):
    gw = gateways.new("bare-admin").start(upstream_block("u", module_upstream.port) + "route /pub/** { public; upstream u; }\n",
                                          admin=True)
    r = requests.get(f"http://127.0.0.1:{gw.admin_port}/admin/keys", headers={"Authorization": "Bearer x"}, timeout=5)
    assert r.status_code in (401, 403)


# -- principals and keys ------------------------------------------------------------------

def test_key_lifecycle_reaches_the_public_listener(admin):
    admin.ok("POST", "/admin/principals", {"id": "agent-7", "name": "Agent Seven", "org_id": "acme"}, status=201)
    created = admin.ok("POST", "/admin/principals/agent-7/keys", {"name": "k", "permissions": ["memory:read"]}, status=201)
    key = created["key"]
    assert created["principal"] == "agent-7" and created["org"] == "acme"
    wait_until(lambda: admin.through_public(key) == 200, timeout=3, message="the new key works")

    # Listings and reads never carry the secret or a hash.
    for doc in (admin.ok("GET", "/admin/keys"), admin.ok("GET", f"/admin/keys/{created['id']}"),
                admin.ok("GET", "/admin/principals/agent-7/keys")):
        text = json.dumps(doc)
        assert key not in text and '"key":' not in text and "sha256" not in text

    admin.ok("PATCH", f"/admin/keys/{created['id']}", {"permissions": ["other:read"]})
    wait_until(lambda: admin.through_public(key) == 403, timeout=3, message="the narrowed key is refused")

    rotated = admin.ok("POST", f"/admin/keys/{created['id']}/rotate", {"grace_seconds": 60}, status=201)
    admin.ok("PATCH", f"/admin/keys/{rotated['id']}", {"permissions": ["memory:read"]})
    wait_until(lambda: admin.through_public(rotated["key"]) == 200, timeout=3, message="the rotated key works")

    admin.ok("DELETE", f"/admin/keys/{rotated['id']}")
    wait_until(lambda: admin.through_public(rotated["key"]) == 401, timeout=3, message="the revoked key is refused")
    assert admin.call("GET", f"/admin/keys/{rotated['id']}").status_code == 404
    assert admin.call("PATCH", f"/admin/keys/{rotated['id']}", {"active": True}).status_code == 404


def test_a_body_arriving_after_another_request_acts_on_its_own_path(admin):
    # The body of a PATCH comes in a later packet (as Python requests sends it), after another
    # client's request on the same event loop: the change must still hit the PATCH's key.
    admin.ok("POST", "/admin/principals", {"id": "split-body"}, status=201)
    a = admin.ok("POST", "/admin/principals/split-body/keys", {"name": "a"}, status=201)["id"]
    b = admin.ok("POST", "/admin/principals/split-body/keys", {"name": "b"}, status=201)["id"]
    body = b'{"active": false}'
    with socket.create_connection(("127.0.0.1", admin.gw.admin_port), timeout=10) as patcher:
        patcher.sendall(f"PATCH /admin/keys/{a} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {admin.token}\r\n"
                        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        time.sleep(0.2)
        assert admin.call("GET", f"/admin/keys/{b}").status_code == 200                     # admin listener
        requests.get(admin.public + f"/admin/keys/{b}", timeout=5)                           # public listener
        time.sleep(0.1)
        patcher.sendall(body)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = patcher.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["id"] == a
    assert admin.ok("GET", f"/admin/keys/{a}")["active"] is False
    assert admin.ok("GET", f"/admin/keys/{b}")["active"] is True


def test_deleting_a_principal_stops_its_keys(admin):
    admin.ok("POST", "/admin/principals", {"id": "agent-8"}, status=201)
    key = admin.ok("POST", "/admin/principals/agent-8/keys", {"name": "k", "permissions": ["memory:read"]}, status=201)["key"]
    wait_until(lambda: admin.through_public(key) == 200, timeout=3, message="the key works")
    assert admin.ok("DELETE", "/admin/principals/agent-8")["keys_revoked"] == 1
    wait_until(lambda: admin.through_public(key) == 401, timeout=3, message="the key of the deleted principal is refused")
    assert admin.call("GET", "/admin/principals/agent-8").status_code == 404
    # Its keys stay off: they cannot be switched back on.
    for item in admin.ok("GET", "/admin/keys", principal_id="agent-8")["items"]:
        assert admin.call("PATCH", f"/admin/keys/{item['id']}", {"active": True}).status_code == 404
    time.sleep(0.5)
    assert admin.through_public(key) == 401


def test_a_keys_rate_limit_binds_its_token_requests_and_tokens(admin):
    admin.ok("POST", "/admin/principals", {"id": "limited"}, status=201)
    key = admin.ok("POST", "/admin/principals/limited/keys",
                   {"name": "k", "permissions": ["memory:read"], "rate_limit": "3/min"}, status=201)["key"]
    token = lambda: requests.post(admin.public + "/_gateway/token", data={"grant_type": "client_credentials"},
                                  headers={"X-API-Key": key}, timeout=10)
    deadline = time.monotonic() + 3
    while (first := token()).status_code == 401:   # the store change reaches the loops
        assert time.monotonic() < deadline, "the new key never worked"
        time.sleep(0.05)
    assert first.status_code == 200, first.text
    statuses = [token().status_code for _ in range(4)]
    assert statuses[:2] == [200, 200] and statuses[2:] == [429, 429], statuses
    # The token shares the key's bucket, now empty.
    r = requests.get(admin.public + "/api/x", headers={"Authorization": "Bearer " + first.json()["access_token"]}, timeout=10)
    assert r.status_code == 429, r.text


def test_a_principal_revocation_ends_its_refresh_tokens(admin):
    admin.ok("POST", "/admin/principals", {"id": "refresher"}, status=201)
    key = admin.ok("POST", "/admin/principals/refresher/keys", {"name": "k", "permissions": ["memory:read"]}, status=201)["key"]
    token = lambda data: requests.post(admin.public + "/_gateway/token", data=data, headers={"X-API-Key": key}, timeout=10)
    wait_until(lambda: token({"grant_type": "client_credentials"}).status_code == 200, timeout=3, message="the key works")
    issued = token({"grant_type": "client_credentials"}).json()
    time.sleep(1.1)   # the revocation cut-off is in whole seconds
    admin.ok("POST", "/admin/revocations", {"principal_id": "refresher"}, status=201)
    refreshed = requests.post(admin.public + "/_gateway/token", timeout=10,
                              data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]})
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant", refreshed.text


@pytest.mark.parametrize("body", [{"id": "a", "extra": 1}, {"id": ".."}, {"id": "a\u0001"}, {"name": "no id"},
                                  {"id": "a", "name": " padded"}, [1]])
def test_bad_principal_bodies_are_400(admin, body):
    r = admin.call("POST", "/admin/principals", body)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request" and r.json()["request_id"]


def test_method_not_allowed_carries_allow(admin):
    r = admin.call("PUT", "/admin/keys")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"


def test_listings_page_by_cursor(admin):
    for n in range(3):
        admin.call("POST", "/admin/principals", {"id": f"page-{n}"})
    seen, cursor = [], None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = admin.ok("GET", "/admin/principals", **params)
        assert len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert {"page-0", "page-1", "page-2"} <= set(seen) and len(seen) == len(set(seen))


# -- revocations and audit ----------------------------------------------------------------

def test_jti_and_principal_revocations(admin):
    token = admin.jwt("agent-9", ["memory:read"])
    claims = jwt.decode(token, options={"verify_signature": False})
    public = lambda t: requests.get(admin.public + "/api/x", headers={"Authorization": "Bearer " + t}, timeout=5).status_code
    assert public(token) == 200
    # PyJWT mints no jti; the principal revocation covers every token issued before now.
    admin.ok("POST", "/admin/revocations", {"principal_id": "agent-9", "issued_before": claims["iat"] + 1}, status=201)
    wait_until(lambda: public(token) == 401, timeout=3, message="the principal's old token is refused")
    later = admin.jwt("agent-9", ["memory:read"], iat=claims["iat"] + 2)
    assert public(later) == 200

    issued = run_cli(admin.bin, "token", "issue", "--sub", "agent-10", "--permissions", "memory:read",
                     "--config", str(admin.gw.config_path), cwd=admin.gw.dir)
    assert issued.returncode == 0, issued.stderr
    gateway_token = issued.stdout.strip()
    jti = jwt.decode(gateway_token, options={"verify_signature": False})["jti"]
    assert public(gateway_token) == 200
    admin.ok("POST", "/admin/revocations", {"jti": jti}, status=201)
    wait_until(lambda: public(gateway_token) == 401, timeout=3, message="the revoked jti is refused")


def test_admin_changes_are_audited_with_the_actor(admin):
    admin.ok("POST", "/admin/principals", {"id": "audited-1"}, status=201)
    events = admin.ok("GET", "/admin/audit", kind="admin_principal_create", principal_id="audited-1")["items"]
    assert events and events[0]["actor"] == "jwt:ops-root" and events[0]["outcome"] == "success"


# -- the OpenAPI document ----------------------------------------------------------------

def test_openapi_document_is_valid_openapi_3_1(admin):
    validator = pytest.importorskip("openapi_spec_validator", reason="installed by scripts/test.sh")
    r = requests.get(admin.base + "/admin/openapi.json", timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    doc = r.json()
    assert doc["openapi"] == "3.1.0"
    validator.validate(doc)


def test_schemathesis_finds_no_failure(admin, tmp_path):
    pytest.importorskip("schemathesis", reason="installed by scripts/test.sh")
    # Another principal than the one schemathesis may revoke or delete: the run cannot lock
    # itself out.
    token = admin.jwt("schemathesis-root-7q", ["admin:read", "admin:write"])
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", admin.base + "/admin/openapi.json", "--header", f"Authorization: Bearer {token}", "--checks", "all",
         "--max-time", "40", "--workers", "1", "--generation-with-security-parameters", "false", "--seed", "1",
         "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=180, cwd=tmp_path)   # its cache stays out of the tree
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_failed_authentications_are_aggregated_in_the_audit(admin):
    before = max([e["id"] for e in admin.ok("GET", "/admin/audit", limit="1")["items"]] or [0])
    for _ in range(25):
        requests.get(admin.public + "/api/x", headers={"Authorization": "Bearer not-a-jwt"}, timeout=5)

    def new_rows():
        events = admin.ok("GET", "/admin/audit", kind="auth_failure", limit="100")["items"]
        rows = [e for e in events if e["id"] > before and e["detail"] == "jwt_malformed from 127.0.0.1"]
        return rows if sum(e["count"] for e in rows) >= 25 else None
    rows = wait_until(new_rows, timeout=25, message="the aggregated auth_failure events")
    # One row per reason and client per 10 s interval, not one per request.
    assert len(rows) <= 3
    assert all(e["outcome"] == "denied" and "not-a-jwt" not in e["detail"] for e in rows)


def test_audit_cli_lists_events(admin):
    admin.call("POST", "/admin/principals", {"id": "cli-audited"})
    r = run_cli(admin.bin, "audit", "--kind", "admin_principal_create", "--limit", "5", "--json",
                "--config", str(admin.gw.config_path), cwd=admin.gw.dir)
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert events and all(e["kind"] == "admin_principal_create" for e in events)
    assert run_cli(admin.bin, "audit", "--since", "soon", "--config", str(admin.gw.config_path)).returncode == 2
