"""SPEC §2/§3 command line: version, check-config diagnostics, --help, exit codes, demo."""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, gateway_bin_path, request, run_cli, wait_listening

DIAG = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+)$", re.M)

VALID = """# a valid configuration
listen 127.0.0.1:18080;
admin_listen 127.0.0.1:19090;
workers 1;
trust_proxies 127.0.0.1/32 10.0.0.0/8;
access_log off;
limits {
    max_head 16k; max_headers 100; max_body 10m;
    head_timeout 10s; idle_timeout 60s; max_connections 10000; drain_timeout 5s;
}
upstream agents {
    server 127.0.0.1:9000 max_fails=2 fail_timeout=5s;
    server 127.0.0.1:9001;
    keepalive 16;
    connect_timeout 2s;
    read_timeout 60s;
}
route /healthz { public; respond 200 "ok"; }
route /api/** { public; methods GET POST; upstream agents; }
route /api/v1/{id} { public; upstream agents; strip_prefix /api; }
route /admin/** { deny; }
"""


def no_stack_trace(text: str) -> None:
    for marker in ("Fatal error", "Stack dump", "Traceback", "Current stack trace", "💣"):
        assert marker not in text, text


def check(gateway_bin, tmp_path: Path, text: str, name: str = "gateway.conf"):
    path = tmp_path / name
    path.write_text(text)
    return path, run_cli(gateway_bin, "check-config", "--config", str(path))


def test_version(gateway_bin):
    r = run_cli(gateway_bin, "version")
    assert r.returncode == 0, r
    out = r.stdout + r.stderr
    assert "openssl" in out.lower(), out
    assert "sqlite" in out.lower(), out
    assert re.search(r"\d+\.\d+", out), out


def test_check_config_valid(gateway_bin, tmp_path):
    path, r = check(gateway_bin, tmp_path, VALID)
    assert r.returncode == 0, r.stderr
    no_stack_trace(r.stderr)


def test_check_config_with_store_and_comments_and_strings(gateway_bin, tmp_path):
    text = ('store sqlite ' + str(tmp_path / "x.db") + ';  # trailing comment\n'
            'route "/quoted" { public; respond 200 "say \\"hi\\" \\\\ ok"; }\n'
            'route /d { deny; }\n')
    path, r = check(gateway_bin, tmp_path, text)
    assert r.returncode == 0, r.stderr


def diag_lines(stderr: str, path: Path):
    found = [m for m in DIAG.finditer(stderr) if os.path.basename(m.group("file")) == path.name]
    assert found, f"no `file:line:col: message` diagnostic for {path.name} in stderr:\n{stderr}"
    return found


INVALID = {
    # name: (config text, allowed error lines, required text in the message or None)
    "unknown_directive": ("workers 1;\nfrobnicate on;\n", {2}, None),
    "unknown_directive_in_route": ('route /a {\n    public;\n    frobnicate on;\n    respond 200 "x";\n}\n', {3}, None),
    "missing_semicolon": ('workers 1;\nroute /a { public; respond 200 "ok" }\n', {2}, None),
    "missing_semicolon_eof": ('route /a { public; respond 200 "ok"; }\nworkers 1\n', {2, 3}, None),
    "unterminated_string": ('workers 1;\nroute /a { public; respond 200 "ok; }\n', {2, 3}, None),
    "unterminated_block": ('workers 1;\nroute /a { public; respond 200 "ok";\n', {2, 3}, None),
    "unknown_upstream": ('upstream u { server 127.0.0.1:9000; }\nroute /a {\n    public;\n    upstream nope;\n}\n',
                         {2, 4}, None),
    "overlapping_routes": ('route /a/{id} { public; respond 200 "1"; }\nroute /a/{name} { public; respond 200 "2"; }\n',
                           {1, 2}, None),
    "overlapping_routes_same_methods": ('route /a/* { public; methods GET; respond 200 "1"; }\n'
                                        'route /a/{x} { public; methods GET POST; respond 200 "2"; }\n', {1, 2}, None),
    "jwt_block_without_key": ('workers 1;\njwt {\n    issuer https://x;\n}\n', {2}, "needs at least one"),
    "tokens_block_without_key": ('workers 1;\ntokens {\n    issuer https://x;\n    audience a;\n}\n', {2}, 'needs a "signing_key"'),
    "roles_cycle": ('workers 1;\nroles {\n    reader @writer;\n    writer @reader;\n}\n', {3}, "includes itself"),
    "unknown_role": ('workers 1;\nroles {\n    reader @nobody;\n}\n', {3}, 'unknown role "nobody"'),
    "introspection_block": ('workers 1;\nintrospection {\n    url http://x;\n}\n', {2}, 'needs a "client_id"'),
    "require_in_public_route": ('route /a {\n    public;\n    require memory:read;\n    respond 200 "x";\n}\n', {3}, "contradicts"),
    "non_public_route": ('upstream u { server 127.0.0.1:9000; }\nroute /a {\n    upstream u;\n}\n', {2, 3, 4}, None),
    "non_public_respond_route": ('route /a { respond 200 "x"; }\n', {1}, None),
    "bad_duration": ('limits {\n    head_timeout 10 parsecs;\n}\n', {2}, None),
    "bad_size": ('limits {\n    max_body lots;\n}\n', {2}, None),
    "bad_listen": ('listen 127.0.0.1:99999;\n', {1}, None),
    "bad_workers": ('workers many;\n', {1}, None),
    "bad_cidr": ('trust_proxies 10.0.0.0/99;\n', {1}, None),
    "bad_status": ('route /a { public; respond 999 "x"; }\n', {1}, None),
    "route_without_action": ('route /a { public; }\n', {1}, None),
    "upstream_without_server": ('upstream u {\n    keepalive 4;\n}\nroute /a { public; upstream u; }\n', {1, 2, 3}, None),
    "duplicate_upstream": ('upstream u { server 127.0.0.1:1; }\nupstream u { server 127.0.0.1:2; }\n', {2}, None),
    "missing_argument": ('workers;\n', {1}, None),
    "bad_pattern_glob_in_middle": ('route /a/**/b { public; respond 200 "x"; }\n', {1}, None),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_check_config_invalid(gateway_bin, tmp_path, name):
    text, lines, needle = INVALID[name]
    path, r = check(gateway_bin, tmp_path, text, name="bad.conf")
    assert r.returncode == 2, f"exit {r.returncode}, stderr:\n{r.stderr}"
    no_stack_trace(r.stderr)
    found = diag_lines(r.stderr, path)
    assert any(int(m.group("line")) in lines for m in found), \
        f"expected an error on line(s) {sorted(lines)}:\n{r.stderr}"
    for m in found:
        assert int(m.group("col")) >= 1
    if needle:
        assert needle in r.stderr, r.stderr


def test_check_config_missing_file(gateway_bin, tmp_path):
    r = run_cli(gateway_bin, "check-config", "--config", str(tmp_path / "absent.conf"))
    assert r.returncode in (1, 2), r
    assert r.stderr.strip()
    no_stack_trace(r.stderr)


def test_check_config_env_fallback(gateway_bin, tmp_path):
    good = tmp_path / "env.conf"
    good.write_text(VALID)
    r = run_cli(gateway_bin, "check-config", env={"GATEWAY_CONFIG": str(good)})
    assert r.returncode == 0, r.stderr
    bad = tmp_path / "envbad.conf"
    bad.write_text("nope;\n")
    r = run_cli(gateway_bin, "check-config", env={"GATEWAY_CONFIG": str(bad)})
    assert r.returncode == 2, r.stderr


def test_check_config_cwd_fallback(gateway_bin, tmp_path):
    (tmp_path / "gateway.conf").write_text("nope;\n")
    r = run_cli(gateway_bin, "check-config", cwd=tmp_path)
    assert r.returncode == 2
    assert diag_lines(r.stderr, tmp_path / "gateway.conf")


def find_example() -> Path:
    candidates = [REPO / "gateway.conf.example"]
    for b in (gateway_bin_path().absolute(), gateway_bin_path().resolve()):
        for parent in b.parents:
            if parent.name == ".build":
                candidates.append(parent.parent / "gateway.conf.example")
    for c in candidates:
        if c.is_file():
            return c
    pytest.fail(f"gateway.conf.example not found (looked at {[str(c) for c in candidates]})", pytrace=False)


def test_example_config_passes(gateway_bin):
    example = find_example()
    r = run_cli(gateway_bin, "check-config", "--config", str(example), cwd=example.parent)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("args", [
    ["--help"], ["serve", "--help"], ["check-config", "--help"], ["version", "--help"], ["demo", "--help"],
    ["keys", "--help"], ["token", "issue", "--help"], ["jwks", "--help"],
])
def test_help(gateway_bin, args):
    r = run_cli(gateway_bin, *args, timeout=10)
    assert r.returncode == 0, r
    out = r.stdout + r.stderr
    assert out.strip(), "empty help"
    assert "usage" in out.lower() or args[0].strip("-") in out.lower(), out


def test_help_lists_commands(gateway_bin):
    r = run_cli(gateway_bin, "--help")
    out = r.stdout + r.stderr
    for cmd in ("serve", "check-config", "version", "demo", "keys", "token issue", "jwks"):
        assert cmd in out, out


def test_unknown_command(gateway_bin):
    r = run_cli(gateway_bin, "frobnicate")
    assert r.returncode == 2, r
    assert r.stderr.strip()
    no_stack_trace(r.stderr)


def test_unknown_option(gateway_bin, tmp_path):
    r = run_cli(gateway_bin, "check-config", "--no-such-option")
    assert r.returncode == 2, r
    assert r.stderr.strip()


def test_no_command(gateway_bin):
    r = run_cli(gateway_bin)
    assert r.returncode in (0, 2), r
    assert (r.stdout + r.stderr).strip()


def test_demo(gateway_bin, tmp_path):
    env = dict(os.environ)
    env.pop("GATEWAY_CONFIG", None)
    env["HOME"] = str(tmp_path)
    out_path = tmp_path / "demo.out"
    with open(out_path, "wb") as out, open(tmp_path / "demo.err", "wb") as err:
        proc = subprocess.Popen([str(gateway_bin), "demo"], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)
        try:
            deadline = time.monotonic() + 20
            url = None
            while time.monotonic() < deadline and proc.poll() is None:
                m = re.search(r"curl[^\n]*?(http://(?:127\.0\.0\.1|localhost):(\d+)(/[^\s'\"]*)?)",
                              out_path.read_text(errors="replace"))
                if m:
                    url = m
                    break
                time.sleep(0.1)
            assert url, ("demo printed no curl command with a loopback URL:\n"
                         + out_path.read_text(errors="replace") + (tmp_path / "demo.err").read_text(errors="replace"))
            port = int(url.group(2))
            wait_listening(port, 10, proc)
            r = request(port, "GET", url.group(3) or "/")
            assert 200 <= r.status < 500, r
            # The tour's credentials work: the demo API key, and the token exchange as printed
            # (the tour's shell lines run word for word).
            text = out_path.read_text(errors="replace")
            key = re.search(r"X-API-Key: (gw_[0-9A-Za-z_]+)'", text).group(1)
            assert request(port, "GET", "/api/v1/sessions/42").status == 401
            r = request(port, "GET", "/api/v1/memory", headers=[("X-API-Key", key)])
            assert r.status == 200 and json.loads(r.body)["headers"]["X-Auth-User-Id"] == "demo-user", r
            lines = [line.strip() for line in text.splitlines()]
            exchange = [line for line in lines if line.startswith(("R=$(curl", "ACCESS=$("))]
            use = next(line for line in lines if line.startswith('curl -i -H "Authorization: Bearer $ACCESS"'))
            refresh = next(line for line in lines if line.startswith("curl -s -X POST") and "refresh_token=$REFRESH" in line)
            script = "\n".join(exchange + [use.split("#")[0] + " -o /dev/null -w '%{http_code}\\n'",
                                            refresh.split("#")[0] + " -o /dev/null -w '%{http_code}\\n'",
                                            refresh.split("#")[0] + " -o /dev/null -w '%{http_code}\\n'"])
            ran = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=20)
            assert ran.stdout.split() == ["200", "200", "400"], (script, ran.stdout, ran.stderr)
            admin_key = re.search(r"demo admin key \(admin:read, admin:write\): +(gw_\w+)", text).group(1)
            admin_port = int(re.search(r"admin API: http://127\.0\.0\.1:(\d+)", text).group(1))
            r = request(admin_port, "GET", "/admin/keys", headers=[("X-API-Key", admin_key)])
            assert r.status == 200 and "demo-agent" in r.body.decode(), r
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(10)
            assert rc in (0, 130, -signal.SIGINT), rc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
