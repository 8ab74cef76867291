"""Real nginx and Caddy in front of the gateway's decision endpoint (SPEC §9), run from the
files in deploy/ with their loopback addresses replaced by ephemeral ports, plus the checks
both front ends must pass (test_nginx.py, test_caddy.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import HOST, REPO, echo, free_port, hdr, request, wait_listening

jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")

DEPLOY = REPO / "deploy"
SECRET = "frontend-secret-0123456789abcdef0123"
# The issuer and audience of the deploy configs' jwt block.
ISS, AUD = "https://auth.example.com", "agent-api"

# The addresses the deploy files use, and what they are replaced with.
FRONT_ADDR, GATEWAY_ADDR, APP_ADDR = "127.0.0.1:8000", "127.0.0.1:8080", "127.0.0.1:9000"


def require_binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.access(f"/usr/sbin/{name}", os.X_OK) else None)
    if path is None:
        pytest.skip(f"{name} is not installed (CI installs it: .ci/run; locally: apt-get install {name})")
    return path


def templated(path: Path, ports: dict, edits=()) -> str:
    """The deploy file with each address of `ports` (one of the *_ADDR above) replaced by a
    loopback port, then `edits` ((old, new) pairs) applied; each must match."""
    text = path.read_text()
    for old, new in [(addr, f"{HOST}:{port}") for addr, port in ports.items()] + list(edits):
        assert old in text, f"{path} no longer contains {old!r}"
        text = text.replace(old, new)
    return text


def start_gateway(factory, conf: Path, app_port: int, name: str, edits=()):
    gw = factory.new(name)
    text = templated(conf, {GATEWAY_ADDR: 0, APP_ADDR: app_port}, edits)   # port 0: the ready file says which
    return gw.start(raw_config=text, env={"GATEWAY_JWT_SECRET": SECRET})


def token(**over) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": "user-9", "iat": now, "exp": now + 600, "org_id": "acme",
              "email": "u9@example.com", "scope": "memory:read", "jti": "tok-9"}
    claims.update(over)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET, algorithm="HS256")


class Frontend:
    """One nginx or Caddy process in the foreground, stopped by PID."""

    def __init__(self, name: str, workdir: Path):
        self.name = name
        self.dir = workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.dir / "output.log"

    def start(self, cmd: list[str], env: dict | None = None) -> "Frontend":
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        wait_listening(self.port, 15, self.proc, self.describe)
        return self

    def describe(self) -> str:
        return f"--- {self.name} output\n{self.log_path.read_text(errors='replace')[-3000:]}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()

    def request(self, method: str, path: str, headers=None):
        return request(self.port, method, path, headers, host="app.example")


def start_nginx(workdir: Path, gateway_port: int, app_port: int, name: str = "nginx", edits=()) -> Frontend:
    binary = require_binary("nginx")
    front = Frontend(name, workdir)
    d = front.dir
    (d / "gateway.conf").write_text(templated(
        DEPLOY / "nginx" / "gateway.conf", {FRONT_ADDR: front.port, GATEWAY_ADDR: gateway_port, APP_ADDR: app_port}, edits))
    user = "user root;\n" if os.geteuid() == 0 else ""   # workers may then read the test's private temp dirs
    (d / "nginx.conf").write_text(
        f"daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n{user}"
        "events { worker_connections 256; }\nhttp {\n    access_log off;\n"
        + "".join(f"    {kind}_temp_path {d}/tmp_{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"    include {d}/gateway.conf;\n}}\n")
    return front.start([binary, "-p", str(d), "-e", str(d / "error.log"), "-c", str(d / "nginx.conf")])


def start_caddy(workdir: Path, gateway_port: int, app_port: int, name: str = "caddy") -> Frontend:
    binary = require_binary("caddy")
    front = Frontend(name, workdir)
    d = front.dir
    (d / "Caddyfile").write_text(templated(
        DEPLOY / "caddy" / "Caddyfile", {GATEWAY_ADDR: gateway_port, APP_ADDR: app_port},
        [(":8000 {", f":{front.port} {{")]))
    env = {"HOME": str(d), "XDG_CONFIG_HOME": str(d / "config"), "XDG_DATA_HOME": str(d / "data")}
    return front.start([binary, "run", "--config", str(d / "Caddyfile"), "--adapter", "caddyfile"], env=env)


# -- the checks both front ends pass ------------------------------------------------------------

SPOOFED = [("X-Auth-User-Id", "mallory"), ("x-auth-roles", "admin"), ("X-Auth-Org-Id", "evil"),
           ("X-Auth-Permissions", "*"), ("X-Auth-Method", "api_key")]


def bearer(tok: str | None = None) -> list:
    return [("Authorization", "Bearer " + (tok or token()))]


def check_allowed_request_reaches_upstream_with_identity(front, up):
    up.reset()
    doc = echo(front.request("GET", "/api/v1/things?page=2", bearer() + SPOOFED))
    h = doc["headers"]
    assert hdr(h, "X-Auth-User-Id") == ["user-9"], h
    assert hdr(h, "X-Auth-Org-Id") == ["acme"], h
    assert hdr(h, "X-Auth-Email") == ["u9@example.com"], h
    assert hdr(h, "X-Auth-Permissions") == ["memory:read"], h
    assert hdr(h, "X-Auth-Method") == ["jwt"], h
    assert hdr(h, "X-Auth-Token-Id") == ["tok-9"], h
    assert hdr(h, "X-Auth-Roles") == [], "the token has no roles: the spoofed value must be gone"
    assert hdr(h, "Authorization") == [], "the credential stays with the front end and the gateway"
    assert [r["target"] for r in up.requests] == ["/api/v1/things?page=2"], up.requests


def check_public_route_is_anonymous(front, up):
    up.reset()
    doc = echo(front.request("GET", "/public/page", SPOOFED))
    spoofed = [n for n, _ in doc["headers"] if n.lower().startswith("x-auth-")]
    assert spoofed == [], doc["headers"]


# Spellings a WSGI/CGI service folds into HTTP_X_AUTH_*, and the proxy headers services believe
# (docs/headers.md): none of the client's may reach the service.
FOLDED = [("X-Auth_Roles", "admin"), ("X_Auth-User-Id", "mallory"), ("X_Auth_Org_Id", "evil")]
PROXY_HINTS = [("X-Real-IP", "10.6.6.6"), ("X-Client-IP", "10.6.6.6"), ("Forwarded", "for=10.6.6.6"),
               ("X-Original-URL", "/admin"), ("X-Rewrite-URL", "/admin"), ("X-Forwarded-Prefix", "/evil"),
               ("X-Forwarded-Port", "1"), ("X-Original-URI", "/admin"), ("X-Forwarded-Uri", "/admin"),
               ("X-Forwarded-Method", "DELETE")]


def check_client_proxy_and_folded_identity_headers_never_reach_the_service(front, up):
    for path, headers in (("/public/page", []), ("/api/x", bearer())):
        up.reset()
        r = front.request("GET", path, headers + FOLDED + PROXY_HINTS + [("X-Request-Id", "client-chosen-id")])
        doc = echo(r)
        names = {n.lower().replace("_", "-"): v for n, v in doc["headers"]}
        assert not [n for n in names if n.startswith("x-auth-") and n not in (
            "x-auth-user-id", "x-auth-org-id", "x-auth-email", "x-auth-permissions", "x-auth-method", "x-auth-token-id",
            "x-auth-key-id")], names
        assert names.get("x-auth-user-id") in (None, "user-9"), names
        assert names.get("x-auth-org-id") in (None, "acme"), names
        for name, value in PROXY_HINTS:
            assert names.get(name.lower()) != value, (name, names)
        assert names.get("x-request-id") != "client-chosen-id", "the gateway made its own request id"


def check_dot_segments_never_reach_the_service(front, up):
    # The front end forwards the path as written: /internal/secrets/../../public/x would be
    # decided as /public/x and served by a service that does not resolve dot segments.
    up.reset()
    for path in ("/internal/secrets/../../public/x", "/internal/secrets/%2e%2e/%2E%2e/public/x",
                 "/api/admin/users/%2e%2e/%2e%2e/x", "/public/./x"):
        assert front.request("GET", path, bearer()).status in (400, 500), path
    time.sleep(0.1)
    assert up.requests == [], up.requests


def check_denials_never_reach_upstream(front, up):
    up.reset()
    r = front.request("GET", "/api/x")
    assert r.status == 401, r
    assert r.header("WWW-Authenticate") == 'Bearer realm="gateway"', r
    r = front.request("GET", "/api/x", bearer("a.b.c"))
    assert r.status == 401 and 'error="invalid_token"' in (r.header("WWW-Authenticate") or ""), r
    r = front.request("GET", "/api/x", bearer(token(exp=int(time.time()) - 3600)))
    assert r.status == 401, r
    assert front.request("GET", "/api/admin/users", bearer()).status == 403
    assert front.request("GET", "/internal/secrets", bearer()).status == 403
    assert front.request("GET", "/elsewhere", bearer()).status == 403        # the catch-all deny route
    # A dot segment in the described path is refused (the front end forwards the path as
    # written); nginx turns the 400 into a 500, as it does any answer but 2xx/401/403.
    assert front.request("GET", "/public/../api/x").status in (400, 500)
    assert front.request("GET", "/public/%2e%2e/api/x").status in (400, 500)
    assert front.request("GET", "/internal/secrets/../../public/x").status in (400, 500)
    time.sleep(0.1)
    assert up.requests == [], up.requests


def check_scope_and_query_token_allow(front, up):
    up.reset()
    echo(front.request("GET", "/api/admin/users", bearer(token(scope="admin:write"))))
    doc = echo(front.request("GET", f"/api/events/stream?access_token={token()}"))
    assert hdr(doc["headers"], "X-Auth-User-Id") == ["user-9"]
    assert len(up.requests) == 2


def check_client_descriptions_are_not_believed(front, up):
    """A client's own X-Original-* / X-Forwarded-Uri never makes a protected path public."""
    up.reset()
    for spoof in ([("X-Original-URI", "/public/x"), ("X-Original-Method", "GET")],
                  [("X-Forwarded-Uri", "/public/x"), ("X-Forwarded-Method", "GET")]):
        r = front.request("GET", "/api/x", spoof)
        assert r.status in (401, 403), r
    time.sleep(0.1)
    assert up.requests == []


def check_untrusted_gateway_never_allows(front, up):
    """The front end talks to a gateway that does not trust it: every request is refused."""
    up.reset()
    for path, headers in (("/api/x", bearer()), ("/public/x", []), ("/api/admin/users", bearer(token(scope="admin:write")))):
        r = front.request("GET", path, headers)
        assert r.status == 403, r
    time.sleep(0.1)
    assert up.requests == []


def check_behind_untrusting_gateway(factory, tmp_path_factory, up, conf: Path, start_front, name: str):
    """A gateway from `conf` that does not trust 127.0.0.1, behind a front end from `start_front`."""
    untrusting = start_gateway(factory, conf, up.port, f"{name}-untrusted",
                               edits=[("trust_proxies 127.0.0.1/32;", "trust_proxies 10.0.0.0/8;")])
    front = start_front(tmp_path_factory.mktemp(f"{name}-untrusted"), untrusting.port, up.port)
    try:
        check_untrusted_gateway_never_allows(front, up)
    finally:
        front.stop()


# Every check above, for the front-end modules to run with their own front end.
def check_rate_limit_reaches_the_client_as_429(front, up):
    """SPEC §7/§9: the gateway's rate limit, decided for the front end, is a 429 with
    Retry-After for the client (nginx: the gateway's 403 + X-Auth-Error mapped back)."""
    up.reset()
    tok = token(sub="rate-limited-user")
    statuses = []
    for _ in range(3):
        r = front.request("GET", "/api/limited/x", bearer(tok))
        statuses.append(r.status)
    assert statuses == [200, 200, 429], statuses
    assert int(r.header("Retry-After")) >= 1, r
    time.sleep(0.1)
    assert len(up.requests) == 2


CHECKS = [check_allowed_request_reaches_upstream_with_identity, check_public_route_is_anonymous,
          check_client_proxy_and_folded_identity_headers_never_reach_the_service, check_dot_segments_never_reach_the_service,
          check_denials_never_reach_upstream, check_scope_and_query_token_allow,
          check_client_descriptions_are_not_believed, check_rate_limit_reaches_the_client_as_429]
CHECK_IDS = [c.__name__.removeprefix("check_") for c in CHECKS]
