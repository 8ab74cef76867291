"""Soak and fault tests (issue: production operations). Each runs in a short form in the
normal suite and in its full form with GATEWAY_SOAK=long (scripts/soak.sh), bounded in time,
on loopback only:

- many keep-alive connections held open while requests are still served (memory per connection);
- SIGHUP every 100 ms under load: no failed request;
- the upstream killed and restarted under load: the gateway keeps serving, no descriptor leaks;
- a mixed run (public, JWT, API key, SSE, WebSocket, errors): no memory or descriptor growth;
- kill -9 while the CLI and the server write keys and tokens: the store is intact and every
  acknowledged write is there.

Measured figures are printed and, with GATEWAY_SOAK_REPORT=FILE, appended there as JSON lines."""

import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")

from conftest import HOST, Conn, fd_count, run_cli, upstream_block, wait_until  # noqa: E402
from upstream import Upstream, ws_frame  # noqa: E402

LONG = os.environ.get("GATEWAY_SOAK") == "long"
SECRET = "soak-secret-0123456789abcdef0123456789ab"
ISS, AUD = "https://idp.soak", "agent-api"


def scale(short, long):
    return long if LONG else short


def report(name: str, **figures) -> None:
    line = json.dumps({"test": name, "mode": "long" if LONG else "short", **figures})
    print("SOAK " + line)
    path = os.environ.get("GATEWAY_SOAK_REPORT")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def token(sub="user-7") -> str:
    now = int(time.time())
    return jwt.encode({"iss": ISS, "aud": AUD, "sub": sub, "iat": now, "exp": now + 3600}, SECRET, algorithm="HS256")


def raise_fd_limit(need: int) -> None:
    """Raises this process's descriptor limit (the gateway inherits it), the hard one too when
    allowed (root); skips the test when `need` cannot be had."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < need:
        pytest.skip(f"needs {need} descriptors; the hard limit is {hard}")


class Load:
    """Client threads sending requests on keep-alive connections until stopped; counts every
    answer by status and every connection error."""

    def __init__(self, port: int, paths, threads: int = 4, headers=None):
        self.port, self.paths, self.headers = port, paths, headers or []
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.statuses: dict[int, int] = {}
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(15)

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.statuses.values())

    def _run(self, index: int) -> None:
        rng = random.Random(index)
        conn = None
        while not self.stop_event.is_set():
            try:
                if conn is None:
                    conn = Conn(self.port, timeout=10)
                path = rng.choice(self.paths)
                r = conn.request("GET", path, headers=self.headers)
                with self.lock:
                    self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
                if (r.header("Connection") or "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as exc:  # noqa: BLE001 - every failure is counted, then reported
                with self.lock:
                    self.errors.append(repr(exc))
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.01)
        if conn is not None:
            conn.close()


# -- many connections -------------------------------------------------------------------------

def test_many_keepalive_connections_are_held_and_requests_still_served(gateways, upstream):
    count = scale(1_000, 10_000)
    raise_fd_limit(count + 1_000)
    gw = gateways.start(upstream_block("u", upstream.port, extra="    keepalive 64;\n")
                        + "limits { max_connections 20000; idle_timeout 5m; }\n"
                        + "route /pub/** { public; upstream u; }\n")
    with Conn(gw.port) as warm:
        for _ in range(20):
            assert warm.request("GET", "/pub/warm").status == 200
    before = rss_kib(gw.pid)
    held = []
    try:
        for i in range(count):
            c = Conn(gw.port, timeout=20)
            held.append(c)
            assert c.request("GET", f"/pub/{i}").status == 200
        during = rss_kib(gw.pid)
        # Still served while every connection is held: new connections, and held ones.
        with Conn(gw.port) as fresh:
            assert fresh.request("GET", "/pub/new").status == 200
        for c in random.Random(1).sample(held, 50):
            assert c.request("GET", "/pub/again").status == 200
        fds = fd_count(gw.pid)
        assert fds >= count, fds
    finally:
        for c in held:
            c.close()
    per_connection = (during - before) / count
    report("many_connections", connections=count, rss_before_kib=before, rss_held_kib=during,
           kib_per_connection=round(per_connection, 1))
    # Idle keep-alive connections keep small buffers (measured about 7-11 KiB each).
    assert per_connection < 24, per_connection


# -- SIGHUP storm -------------------------------------------------------------------------------

def test_sighup_every_100ms_under_load_fails_no_request(gateways, upstream):
    seconds = scale(4, 60)
    body = (f"jwt {{\n    issuer {ISS};\n    audience {AUD};\n    key hs HS256 env:SOAK_SECRET;\n}}\n"
            + upstream_block("u", upstream.port) + "route /pub/** { public; upstream u; }\nroute /api/** { upstream u; }\n")
    gw = gateways.start(body, workers=2, admin=True, env={"SOAK_SECRET": SECRET})
    signals = 0
    with Load(gw.port, ["/pub/a", "/api/b"], threads=4, headers=[("Authorization", "Bearer " + token())]) as load:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            gw.signal(signal.SIGHUP)
            signals += 1
            time.sleep(0.1)
        time.sleep(0.3)
    report("sighup_storm", seconds=seconds, signals=signals, requests=load.total, statuses=load.statuses,
           errors=len(load.errors))
    assert load.errors == [], load.errors[:5]
    assert set(load.statuses) == {200}, load.statuses
    assert load.total > 100
    assert "config reload failed" not in gw.stderr_text()
    assert gw.alive()


# -- upstream killed and restarted ------------------------------------------------------------------

def test_upstream_killed_and_restarted_under_load_leaks_no_descriptor(gateways):
    up = Upstream("victim").start()
    port = up.port
    gw = gateways.start(upstream_block("u", port, extra="    keepalive 8;\n", server_opts="max_fails=100")
                        + "route /pub/** { public; upstream u; }\n", workers=2)
    cycles = scale(3, 20)
    paths = ["/pub/a", "/pub/sse?n=20&delay_ms=20", "/pub/slow?ms=50", "/pub/big?n=200000"]
    try:
        with Load(gw.port, paths, threads=2) as warm:
            time.sleep(1)
        assert warm.errors == [] and set(warm.statuses) == {200}, (warm.statuses, warm.errors[:3])
        time.sleep(0.5)
        baseline = fd_count(gw.pid)
        with Load(gw.port, paths, threads=4) as load:
            for _ in range(cycles):
                time.sleep(0.5)
                up.stop()          # mid-stream: SSE and large bodies are cut
                time.sleep(0.3)
                up = Upstream("victim", port=port).start()
            time.sleep(1)
        # Served again once the upstream is back.
        with Conn(gw.port) as c:
            assert c.request("GET", "/pub/after").status == 200
        served_after = sum(v for k, v in load.statuses.items() if k == 200)
        wait_until(lambda: fd_count(gw.pid) <= baseline + 8, 10, message="descriptors back to the baseline")
        after = fd_count(gw.pid)
    finally:
        up.stop()
    report("upstream_restart", cycles=cycles, requests=load.total, statuses=load.statuses,
           client_errors=len(load.errors), fds_before=baseline, fds_after=after)
    assert served_after > 0
    assert gw.alive()
    # Pooled idle upstream connections may differ by at most the keepalive of each loop.
    assert after <= baseline + 8, (baseline, after)


# -- mixed run ------------------------------------------------------------------------------------

def test_mixed_traffic_run_grows_no_memory_or_descriptors(gateways, upstream, tmp_path):
    seconds = scale(20, 600)
    db = tmp_path / "store.db"
    body = (f"jwt {{\n    issuer {ISS};\n    audience {AUD};\n    key hs HS256 env:SOAK_SECRET;\n}}\n"
            + upstream_block("u", upstream.port) + f"store sqlite {db};\napi_keys {{ }}\n"
            + "route /pub/** { public; upstream u; }\nroute /api/** { upstream u; }\n"
            + "route /keys/** { auth api_key; upstream u; }\n")
    gw = gateways.start(body, workers=2, env={"SOAK_SECRET": SECRET})
    created = run_cli(gw.bin, "keys", "create", "--name", "soak", "--principal", "p", "--json", "--config", str(gw.config_path),
                      env={"SOAK_SECRET": SECRET})
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["key"]
    good = token()
    stop = threading.Event()
    problems: list[str] = []

    def websocket_client():
        while not stop.is_set():
            try:
                with Conn(gw.port, timeout=10) as c:
                    c.send(b"GET /pub/ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    if c.read_response(allow_interim=True).status != 101:
                        problems.append("websocket refused")
                    for i in range(5):
                        c.send(ws_frame(1, b"hello %d" % i, mask=True))
                        c.read_some()
            except Exception as exc:  # noqa: BLE001
                problems.append("websocket: " + repr(exc))
            time.sleep(0.05)

    loads = [
        Load(gw.port, ["/pub/a", "/pub/sse?n=5", "/pub/status/404", "/nowhere"], threads=2),
        Load(gw.port, ["/api/x"], threads=1, headers=[("Authorization", "Bearer " + good)]),
        Load(gw.port, ["/keys/x"], threads=1, headers=[("X-API-Key", key)]),
        Load(gw.port, ["/api/x"], threads=1, headers=[("Authorization", "Bearer not.a.token")]),
    ]
    ws = threading.Thread(target=websocket_client, daemon=True)
    for load in loads:
        load.__enter__()
    ws.start()
    try:
        warm_up = max(5, seconds // 10)
        time.sleep(warm_up)
        rss_start, fds_start = rss_kib(gw.pid), fd_count(gw.pid)
        time.sleep(seconds - warm_up)
        rss_end, fds_end = rss_kib(gw.pid), fd_count(gw.pid)
    finally:
        stop.set()
        for load in loads:
            load.stop()
        ws.join(15)
    statuses: dict[int, int] = {}
    for load in loads:
        for k, v in load.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    errors = [e for load in loads for e in load.errors]
    growth = (rss_end - rss_start) / rss_start
    report("mixed_run", seconds=seconds, requests=sum(statuses.values()), statuses=statuses, errors=len(errors),
           websocket_problems=len(problems), rss_start_kib=rss_start, rss_end_kib=rss_end,
           rss_growth_pct=round(100 * growth, 2), fds_start=fds_start, fds_end=fds_end)
    assert errors == [] and problems == [], (errors[:3], problems[:3])
    assert set(statuses) <= {200, 401, 404}, statuses
    assert growth < (0.05 if LONG else 0.25), growth
    assert fds_end <= fds_start + 8, (fds_start, fds_end)


# -- kill -9 while writing ---------------------------------------------------------------------------

def test_kill9_while_cli_and_server_write_loses_no_acknowledged_write(gateways, upstream, tmp_path):
    requests = pytest.importorskip("requests")
    seconds = scale(4, 30)
    db = tmp_path / "store.db"
    body = (upstream_block("u", upstream.port)
            + f'tokens {{ signing_key t HS256 "{SECRET}"; issuer https://gw.soak; audience api; }}\n'
            + f"store sqlite {db};\napi_keys {{ }}\nroute /api/** {{ upstream u; }}\n")
    gw = gateways.start(body, workers=2)
    base = f"http://{HOST}:{gw.port}"
    created = run_cli(gw.bin, "keys", "create", "--name", "seed", "--principal", "p", "--json", "--config", str(gw.config_path))
    seed_key = json.loads(created.stdout)["key"]
    wait_until(lambda: requests.post(base + "/_gateway/token", data={"grant_type": "client_credentials"},
                                      headers={"X-API-Key": seed_key}, timeout=5).status_code == 200, 5,
               message="the seed key works")
    acknowledged_keys: list[str] = []
    acknowledged_refresh: list[str] = []
    stop = threading.Event()

    def cli_writer():
        i = 0
        while not stop.is_set():
            i += 1
            r = subprocess.run([str(gw.bin), "keys", "create", "--name", f"k{i}", "--principal", f"p{i % 7}", "--json",
                                "--config", str(gw.config_path)], capture_output=True, text=True, timeout=30, cwd=gw.dir)
            if r.returncode == 0:
                acknowledged_keys.append(json.loads(r.stdout)["id"])

    def server_writer():
        while not stop.is_set():
            try:
                r = requests.post(base + "/_gateway/token", data={"grant_type": "client_credentials"},
                                  headers={"X-API-Key": seed_key}, timeout=5)
            except requests.RequestException:
                return   # the gateway is gone
            if r.status_code == 200 and "refresh_token" in r.json():
                acknowledged_refresh.append(r.json()["refresh_token"])

    writers = [threading.Thread(target=cli_writer), threading.Thread(target=server_writer),
               threading.Thread(target=server_writer)]
    for t in writers:
        t.start()
    time.sleep(seconds)
    os.kill(gw.pid, signal.SIGKILL)
    gw.proc.wait(10)
    time.sleep(0.5)    # the CLI keeps writing after the server died
    stop.set()
    for t in writers:
        t.join(40)
    gw.returncode = -9
    gw._close_files()

    with sqlite3.connect(db) as store:
        assert store.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {row[0] for row in store.execute("SELECT id FROM api_keys")}
    missing_keys = [k for k in acknowledged_keys if k not in ids]
    # Every refresh token the server handed out still works after a restart (each once).
    restarted = gateways.new("after-kill").start(raw_config=gw.config_path.read_text())
    base = f"http://{HOST}:{restarted.port}"
    sample = random.Random(7).sample(acknowledged_refresh, min(200, len(acknowledged_refresh))) + acknowledged_refresh[-20:]
    sample = list(dict.fromkeys(sample))
    refused = [t for t in sample if requests.post(base + "/_gateway/token", data={"grant_type": "refresh_token",
                                                                                 "refresh_token": t}, timeout=5).status_code != 200]
    report("kill9_store", seconds=seconds, cli_keys=len(acknowledged_keys), refresh_tokens=len(acknowledged_refresh),
           missing_keys=len(missing_keys), refresh_refused=len(refused))
    assert acknowledged_keys and acknowledged_refresh
    assert missing_keys == [] and refused == [], (missing_keys[:3], len(refused))
