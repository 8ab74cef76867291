"""SPEC §2/§3/§15: serving, SIGTERM drain, SIGHUP reload, admin listener, workers, logs."""

import json
import re
import signal
import socket
import threading
import time


from conftest import HOST, Conn, IncompleteResponse, assert_error, echo, request, upstream_block, wait_until


def test_sigterm_lets_in_flight_request_finish(gateways, upstream):
    gw = gateways.start(upstream_block("u", upstream.port) + "route /api/** { public; upstream u; }\n")
    result = {}

    def slow() -> None:
        try:
            result["resp"] = gw.request("GET", "/api/slow?ms=1500", timeout=10)
        except Exception as exc:  # noqa: BLE001
            result["error"] = repr(exc)

    t = threading.Thread(target=slow)
    t.start()
    upstream.wait_requests(1, timeout=5)
    gw.signal(signal.SIGTERM)
    t.join(10)
    assert "error" not in result, result
    r = result["resp"]
    assert r.status == 200 and r.json()["path"] == "/api/slow", r
    assert gw.wait_exit(10) == 0, gw.describe()


def test_sigterm_stops_accepting(gateways, upstream):
    gw = gateways.start(upstream_block("u", upstream.port) + "route /api/** { public; upstream u; }\n")
    done = threading.Event()

    def slow() -> None:
        try:
            gw.request("GET", "/api/slow?ms=2000", timeout=10)
        finally:
            done.set()

    t = threading.Thread(target=slow)
    t.start()
    upstream.wait_requests(1, timeout=5)
    gw.signal(signal.SIGTERM)
    time.sleep(0.3)
    served = None
    try:
        with Conn(gw.port, timeout=2) as c:
            served = c.request("GET", "/api/new").status
    except (OSError, IncompleteResponse):
        pass
    assert served is None, f"a new connection was served ({served}) after SIGTERM"
    t.join(10)
    assert gw.wait_exit(10) == 0


def test_sigterm_drain_timeout_bounds_shutdown(gateways, upstream):
    gw = gateways.start(upstream_block("u", upstream.port) + """
limits { drain_timeout 1s; }
route /api/** { public; upstream u; }
""")
    t = threading.Thread(target=lambda: _swallow(lambda: gw.request("GET", "/api/hang", timeout=10)))
    t.start()
    upstream.wait_requests(1, timeout=5)
    t0 = time.monotonic()
    gw.signal(signal.SIGTERM)
    rc = gw.wait_exit(8)
    assert rc == 0
    assert time.monotonic() - t0 < 4, "drain_timeout 1s was not honoured"
    t.join(10)


def _swallow(fn):
    try:
        fn()
    except Exception:  # noqa: BLE001
        pass


def test_idle_sigterm_exits_zero_quickly(gateways):
    gw = gateways.start('route /healthz { public; respond 200 "ok"; }\n')
    with Conn(gw.port) as c:  # an idle keep-alive connection does not hold the drain up
        assert c.request("GET", "/healthz").status == 200
        t0 = time.monotonic()
        gw.signal(signal.SIGTERM)
        assert gw.wait_exit(10) == 0
        assert time.monotonic() - t0 < 3


def test_sighup_reload_under_load(gateways):
    base = 'route /a { public; respond 200 "one"; }\n'
    gw = gateways.start(base)
    failures, count = [], [0]
    stop = threading.Event()

    def load(keep_alive: bool) -> None:
        conn = None
        while not stop.is_set():
            try:
                if keep_alive:
                    conn = conn or Conn(gw.port, timeout=3)
                    r = conn.request("GET", "/a")
                else:
                    r = request(gw.port, "GET", "/a", timeout=3)
                if r.status != 200 or r.body not in (b"one", b"uno"):
                    failures.append(repr(r))
                count[0] += 1
            except Exception as exc:  # noqa: BLE001
                failures.append(repr(exc))
                conn = None
        if conn:
            conn.close()

    threads = [threading.Thread(target=load, args=(k,)) for k in (False, True, False)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        gw.reload(base.replace("one", "uno") + 'route /b { public; respond 200 "two"; }\n')
        time.sleep(2.0)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert not failures, failures[:5]
    assert count[0] > 20
    wait_until(lambda: gw.request("GET", "/b").status == 200, 3, message="the new route")
    assert gw.request("GET", "/b").body == b"two"
    assert gw.request("GET", "/a").body == b"uno"


def test_sighup_with_broken_file_keeps_old_config(gateways):
    gw = gateways.start('route /a { public; respond 200 "one"; }\n')
    broken = gw.config('route /a { public; respond 200 "one"; }\n') + "\n\nbogus_directive on;\n"
    bad_line = broken.splitlines().index("bogus_directive on;") + 1
    gw.reload(raw_config=broken)
    wait_until(lambda: re.search(rf":{bad_line}:\d+", gw.stderr_text()), 5,
               message=f"a reload error naming line {bad_line} with its column on stderr")
    assert gw.alive()
    assert gw.request("GET", "/a").body == b"one"
    # a later good reload still works
    gw.reload('route /a { public; respond 200 "one"; }\nroute /c { public; respond 200 "three"; }\n')
    wait_until(lambda: gw.request("GET", "/c").status == 200, 3, message="the route of a good reload")


def test_reload_in_flight_request_finishes(gateways, upstream):
    gw = gateways.start(upstream_block("u", upstream.port) + "route /api/** { public; upstream u; }\n")
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", gw.request("GET", "/api/slow?ms=1000", timeout=8)))
    t.start()
    upstream.wait_requests(1)
    gw.reload('route /other { public; respond 200 "x"; }\n')
    t.join(10)
    assert result["r"].status == 200
    wait_until(lambda: gw.request("GET", "/other").status == 200, 3, message="the reloaded route")
    assert_error(gw.request("GET", "/api/x"), 404, "route_not_found")


def test_admin_healthz(gateways):
    gw = gateways.start('route /a { public; respond 200 "one"; }\n', admin=True)
    r = request(gw.admin_port, "GET", "/healthz")
    assert r.status == 200
    # not exposed on the public listener
    assert_error(gw.request("GET", "/healthz"), 404, "route_not_found")


def test_workers_two(gateways, upstream):
    gw = gateways.start(upstream_block("u", upstream.port) + "route /api/** { public; upstream u; }\n", workers=2)
    errors = []

    def worker(i: int) -> None:
        try:
            with Conn(gw.port, timeout=5) as c:
                for j in range(10):
                    doc = echo(c.request("GET", f"/api/w?i={i}&j={j}"))
                    assert doc["query"] == f"i={i}&j={j}"
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors[:3]
    assert len(upstream.requests) == 160


def test_workers_auto(gateways):
    gw = gateways.start('route /a { public; respond 200 "one"; }\n', workers="auto")
    assert gw.request("GET", "/a").body == b"one"


def test_stderr_is_json_lines(gateways):
    gw = gateways.start('route /a { public; respond 200 "one"; }\n')
    gw.request("GET", "/a")
    rc = gw.stop()
    assert rc == 0
    for line in gw.stderr_text().splitlines():
        if line.strip():
            assert isinstance(json.loads(line), dict), line


def _access_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        if line.strip():
            doc = json.loads(line)
            assert isinstance(doc, dict), line
            out.append(doc)
    return out


def test_access_log_stdout(gateways, upstream):
    gw = gateways.start(upstream_block("u", upstream.port) + "route /api/** { public; upstream u; }\n",
                        access_log="stdout")
    gw.request("GET", "/api/logged/./x?secret=1")
    gw.request("GET", "/missing")
    lines = wait_until(lambda: len(_access_lines(gw.stdout_text())) >= 2 and _access_lines(gw.stdout_text()), 3,
                       message="two access-log lines on stdout")
    text = json.dumps(lines)
    assert "/api/logged/x" in text
    statuses = [v for d in lines for v in d.values() if v in (200, "200", 404, "404")]
    assert len(statuses) >= 2, lines


def test_access_log_file(gateways, tmp_path):
    path = tmp_path / "access.log"
    gw = gateways.start('route /a { public; respond 200 "one"; }\n', access_log=str(path))
    gw.request("GET", "/a")
    wait_until(lambda: path.exists() and path.read_text().strip(), 3, message="an access-log line in the file")
    assert _access_lines(path.read_text())
    assert gw.stdout_text().strip() == ""


def test_access_log_off(gateways):
    gw = gateways.start('route /a { public; respond 200 "one"; }\n', access_log="off")
    gw.request("GET", "/a")
    time.sleep(0.3)
    assert gw.stdout_text().strip() == ""


def test_gateway_config_env_fallback(gateways):
    gw = gateways.new()
    gw.write_config(gw.config('route /a { public; respond 200 "env"; }\n'))
    gw.start(env={"GATEWAY_CONFIG": str(gw.config_path)}, args=[])
    assert gw.request("GET", "/a").body == b"env"


def test_default_config_in_working_directory(gateways):
    gw = gateways.new()
    (gw.dir / "gateway.conf").write_text(gw.config('route /a { public; respond 200 "cwd"; }\n'))
    gw.start(args=[])
    assert gw.request("GET", "/a").body == b"cwd"


def test_store_directive(gateways, tmp_path):
    db = tmp_path / "gw.db"
    gw = gateways.start(f'store sqlite {db};\nroute /a {{ public; respond 200 "one"; }}\n')
    assert gw.request("GET", "/a").body == b"one"


def test_serve_with_invalid_config_exits_2(gateways):
    gw = gateways.new()
    gw.write_config(gw.config('route /a { public; respond 200 "one"; }\nbogus on;\n'))
    gw.start(wait=False)
    rc = gw.wait_exit(10)
    assert rc == 2, gw.describe()
    assert re.search(r"gw\d*\.conf:\d+:\d+", gw.stderr_text()), gw.stderr_text()


def test_listen_port_in_use_is_an_error(gateways):
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind((HOST, 0))
    blocker.listen(1)
    try:
        gw = gateways.new()
        gw.listen_port = blocker.getsockname()[1]
        gw.write_config(gw.config('route /a { public; respond 200 "one"; }\n'))
        gw.start(wait=False)
        rc = gw.wait_exit(10)
        assert rc != 0, "serve succeeded on a port that is in use"
        assert gw.stderr_text().strip()
    finally:
        blocker.close()
