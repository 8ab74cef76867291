"""SPEC §5 API keys through the real CLI and a real SQLite store while the server runs:
identity reaches the upstream, spoofed identity and the key itself never do, every failure
is the same 401, revocation takes effect within a second, ambiguity is a 400."""

import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from conftest import assert_error, echo, hdr, run_cli, upstream_block

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def check_digits(body: str) -> str:
    """The SPEC §5 check: CRC-32 of the body in 6 base62 digits, most significant first."""
    crc = zlib.crc32(body.encode())
    digits = ""
    for _ in range(6):
        digits = ALPHABET[crc % 62] + digits
        crc //= 62
    return digits


def conf(gw, upstream_port, store):
    return gw.config(
        f"store sqlite {store};\n"
        "api_keys { header X-API-Key; bearer on; prefix gw_; legacy_prefix ck_; }\n"
        + upstream_block("u", upstream_port)
        + "route /api/** { upstream u; }\n"
          "route /only-keys/** { auth api_key; upstream u; }\n"
          "route /open/** { auth optional; upstream u; }\n"
          "route /fwd/** { forward_credentials on; upstream u; }\n"
          "route /pub/** { public; upstream u; }\n")


@pytest.fixture(scope="module")
def env(module_gateways, module_upstream, gateway_bin, tmp_path_factory):
    store = tmp_path_factory.mktemp("keys") / "gateway.db"
    gw = module_gateways.new("keys")
    gw.write_config(conf(gw, module_upstream.port, store))

    def cli(*args):
        return run_cli(gateway_bin, "keys", *args, "--config", str(gw.config_path))

    created = cli("create", "--name", "alice-agent", "--principal", "alice", "--permissions", "session:read,memory:read",
                  "--roles", "reader", "--org", "acme", "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    gw.start(raw_config=gw.config_path.read_text())
    return gw, cli, key


@pytest.fixture
def up(module_upstream):
    module_upstream.reset()
    return module_upstream


def test_created_key_has_the_spec_format(env):
    _, _, key = env
    k = key["key"]
    assert k.startswith("gw_") and len(key["id"]) == 12
    body, check = k[:-6], k[-6:]
    prefix_id, secret = body.rsplit("_", 1)
    assert prefix_id == "gw_" + key["id"] and len(secret) == 32
    assert check == check_digits(body)
    for field in ("id", "key", "principal", "permissions", "roles", "rate_limit", "expires_at"):
        assert field in key


def test_the_store_is_readable_by_its_owner_only(env):
    # Key metadata, the audit trail and imported legacy hashes: 0600 whatever the umask (the
    # suite runs with the usual 022), and SQLite gives -wal/-shm the same mode.
    gw, _, _ = env
    store = Path(re.search(r"store sqlite (\S+);", gw.config_path.read_text()).group(1))
    for path in [store] + [Path(str(store) + suffix) for suffix in ("-wal", "-shm")]:
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))


def test_identity_reaches_upstream_and_the_key_does_not(env, up):
    gw, _, key = env
    r = gw.request("GET", "/api/me", headers=[("X-API-Key", key["key"]), ("X-Auth-User-Id", "mallory"),
                                             ("X_Auth_Roles", "admin"), ("x-auth-org-id", "evil")])
    doc = echo(r)
    assert hdr(doc["headers"], "X-Auth-User-Id") == ["alice"]
    assert hdr(doc["headers"], "X-Auth-Org-Id") == ["acme"]
    assert hdr(doc["headers"], "X-Auth-Permissions") == ["memory:read,session:read"]
    assert hdr(doc["headers"], "X-Auth-Roles") == ["reader"]
    assert hdr(doc["headers"], "X-Auth-Method") == ["api_key"]
    assert hdr(doc["headers"], "X-Auth-Key-Id") == [key["id"]]
    assert hdr(doc["headers"], "X-API-Key") == []
    assert not any(n.lower().replace("_", "-") == "x-auth-roles" and v == "admin" for n, v in doc["headers"])
    assert key["key"] not in json.dumps(doc)


def test_bearer_api_key(env, up):
    gw, _, key = env
    doc = echo(gw.request("GET", "/api/me", headers=[("Authorization", "Bearer " + key["key"])]))
    assert hdr(doc["headers"], "X-Auth-User-Id") == ["alice"]
    assert hdr(doc["headers"], "Authorization") == []


def test_forward_credentials_keeps_the_key(env, up):
    gw, _, key = env
    doc = echo(gw.request("GET", "/fwd/x", headers=[("X-API-Key", key["key"])]))
    assert hdr(doc["headers"], "X-API-Key") == [key["key"]]


def test_public_route_strips_credentials(env, up):
    gw, _, key = env
    doc = echo(gw.request("GET", "/pub/x", headers=[("X-API-Key", key["key"]), ("Authorization", "Bearer abc")]))
    assert hdr(doc["headers"], "X-API-Key") == [] and hdr(doc["headers"], "Authorization") == []
    assert hdr(doc["headers"], "X-Auth-User-Id") == []


def test_missing_credential_is_401_with_a_bare_challenge(env, up):
    gw, _, _ = env
    r = gw.request("GET", "/api/me")
    assert_error(r, 401, "unauthorized")
    assert r.header("WWW-Authenticate") == 'Bearer realm="gateway"'
    assert up.requests == []


def bad_keys(key):
    k = key["key"]
    flipped = k[:20] + ("A" if k[20] != "A" else "B") + k[21:]
    body = k[:-6].rsplit("_", 1)[0] + "_" + "s" * 32
    unknown_body = "gw_" + "Z" * 12 + "_" + "s" * 32
    return {"bad checksum": flipped, "wrong secret": body + check_digits(body),
            "unknown id": unknown_body + check_digits(unknown_body),
            "garbage": "gw_nonsense", "legacy unknown": "ck_live_1234567890"}


def test_every_failure_is_the_same_401(env, up):
    gw, _, key = env
    bodies = set()
    for label, bad in bad_keys(key).items():
        r = gw.request("GET", "/api/me", headers=[("X-API-Key", bad)])
        doc = assert_error(r, 401, "invalid_token")
        assert r.header("WWW-Authenticate") == 'Bearer realm="gateway", error="invalid_token"', label
        bodies.add((doc["error"], doc["error_description"]))
        assert bad not in r.body.decode(errors="replace")
    assert len(bodies) == 1
    assert up.requests == []


def test_two_credentials_are_a_400(env, up):
    gw, _, key = env
    r = gw.request("GET", "/api/me", headers=[("X-API-Key", key["key"]), ("Authorization", "Bearer " + key["key"])])
    assert_error(r, 400, "invalid_request")
    r = gw.request("GET", "/api/me", headers=[("X-API-Key", key["key"]), ("X-API-Key", key["key"])])
    assert_error(r, 400, "invalid_request")
    assert up.requests == []


def test_auth_modes(env, up):
    gw, _, key = env
    doc = echo(gw.request("GET", "/open/x"))
    assert hdr(doc["headers"], "X-Auth-User-Id") == []
    doc = echo(gw.request("GET", "/open/x", headers=[("X-API-Key", key["key"])]))
    assert hdr(doc["headers"], "X-Auth-User-Id") == ["alice"]
    assert_error(gw.request("GET", "/open/x", headers=[("X-API-Key", "gw_bad")]), 401, "invalid_token")
    # a bearer token that is not an API key is a JWT, which this route does not accept
    assert_error(gw.request("GET", "/only-keys/x", headers=[("Authorization", "Bearer a.b.c")]), 401, "invalid_token")


def test_legacy_key_import(env, up):
    gw, cli, _ = env
    import hashlib
    legacy = "ck_live_" + "q" * 24
    r = cli("import", "--sha256", hashlib.sha256(legacy.encode()).hexdigest(), "--prefix", "ck_", "--name", "old",
            "--principal", "bob", "--json")
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        resp = gw.request("GET", "/api/me", headers=[("X-API-Key", legacy)])
        if resp.status == 200:
            break
        time.sleep(0.1)
    assert hdr(echo(resp)["headers"], "X-Auth-User-Id") == ["bob"]


def test_cli_list_never_shows_secrets(env):
    _, cli, key = env
    r = cli("list", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert any(row["id"] == key["id"] for row in rows)
    assert key["key"] not in r.stdout and key["key"].rsplit("_", 1)[1][:32] not in r.stdout
    assert "sha256" not in r.stdout.lower() and "hash" not in r.stdout.lower()


def test_rotate_and_revoke_take_effect_while_running(env, up, tmp_path):
    gw, cli, _ = env
    made = cli("create", "--name", "temp", "--principal", "carol", "--json")
    assert made.returncode == 0, made.stderr
    k = json.loads(made.stdout)
    deadline = time.monotonic() + 3
    while gw.request("GET", "/api/me", headers=[("X-API-Key", k["key"])]).status != 200:
        assert time.monotonic() < deadline, "new key never accepted"
        time.sleep(0.05)
    rotated = cli("rotate", k["id"], "--grace", "0s", "--json")
    assert rotated.returncode == 0, rotated.stderr
    new = json.loads(rotated.stdout)
    start = time.monotonic()
    while gw.request("GET", "/api/me", headers=[("X-API-Key", k["key"])]).status == 200:
        assert time.monotonic() - start < 1.5, "the rotated-out key still works after 1.5 s"
        time.sleep(0.05)
    assert echo(gw.request("GET", "/api/me", headers=[("X-API-Key", new["key"])]))
    assert cli("revoke", new["id"]).returncode == 0
    start = time.monotonic()
    while gw.request("GET", "/api/me", headers=[("X-API-Key", new["key"])]).status == 200:
        assert time.monotonic() - start < 1.0, "a revoked key still works after 1 s"
        time.sleep(0.05)


def test_revocation_reaches_a_busy_keep_alive_connection(env, up):
    """A client hammering one keep-alive connection with its key is cut off within a second
    of `keys revoke`, like any other."""
    gw, cli, _ = env
    made = cli("create", "--name", "busy", "--principal", "dave", "--json")
    k = json.loads(made.stdout)
    with gw.connect() as conn:
        deadline = time.monotonic() + 3
        while conn.request("GET", "/api/me", headers=[("X-API-Key", k["key"])]).status != 200:
            assert time.monotonic() < deadline, "new key never accepted"
            time.sleep(0.05)
        assert cli("revoke", k["id"]).returncode == 0
        start = time.monotonic()
        while True:
            resp = conn.request("GET", "/api/me", headers=[("X-API-Key", k["key"])])
            if resp.status == 401:
                break
            assert resp.status == 200, resp
            assert time.monotonic() - start < 1.0, "a revoked key still works on a busy connection after 1 s"
            time.sleep(0.005)


def test_store_file_is_sqlite_wal_with_no_secret(env):
    gw, _, key = env
    store = next(line.split()[2].rstrip(";") for line in gw.config_path.read_text().splitlines() if line.startswith("store"))
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT count(*) FROM api_keys").fetchone()[0] >= 1
    db.close()
    secret = key["key"][3 + 12 + 1:-6]
    for suffix in ("", "-wal"):
        path = store + suffix
        if os.path.exists(path):
            assert secret.encode() not in open(path, "rb").read()


def test_kill_9_during_cli_writes_leaves_a_readable_store(gateway_bin, tmp_path):
    store = tmp_path / "crash.db"
    config = tmp_path / "crash.conf"
    config.write_text(f"store sqlite {store};\napi_keys {{ }}\nroute /x {{ deny; }}\n")
    # A shell loop of CLI writers, killed -9 while writing.
    script = f"while true; do {gateway_bin} keys create --name k --config {config} >/dev/null 2>&1 || exit 1; done"
    proc = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(5)
    r = run_cli(gateway_bin, "keys", "list", "--json", "--config", str(config))
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) >= 1
    db = sqlite3.connect(str(store))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_keys_cli_errors(env, gateway_bin, tmp_path):
    _, cli, _ = env
    assert cli("create").returncode == 2              # --name missing
    assert cli("show").returncode == 2                # id missing
    assert cli("show", "nonexistent12").returncode == 1
    assert cli("create", "--name", "x", "--expires", "soon").returncode == 2
    assert cli("--help").returncode == 0
    bare = tmp_path / "nostore.conf"
    bare.write_text("route /x { deny; }\n")
    r = run_cli(gateway_bin, "keys", "list", "--config", str(bare))
    assert r.returncode == 2 and "store" in r.stderr
