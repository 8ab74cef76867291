"""SPEC §15 access log: a file reopened on SIGUSR1 (driven by the real logrotate with the
shipped deploy/logrotate/gateway), and a log that cannot keep up never slows requests: lines
are dropped and counted instead."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import request, wait_until

ROOT = Path(__file__).resolve().parents[2]
ROUTE = 'route /a/** { public; respond 200 "one"; }\n'


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def test_sigusr1_reopens_the_file_after_it_was_moved(gateways, tmp_path):
    path = tmp_path / "access.log"
    gw = gateways.start(ROUTE, access_log=f"file:{path}")
    gw.request("GET", "/a/before")
    wait_until(lambda: len(lines(path)) == 1, 3, message="the first line")
    moved = tmp_path / "access.log.1"
    os.rename(path, moved)
    gw.request("GET", "/a/between")   # still written to the moved file (same descriptor)
    wait_until(lambda: len(lines(moved)) == 2, 3, message="a line in the moved file")
    gw.signal(signal.SIGUSR1)
    wait_until(lambda: "access log reopened" in gw.stderr_text(), 3, message="the reopen logged")
    gw.request("GET", "/a/after")
    wait_until(lambda: len(lines(path)) == 1, 3, message="a line in the new file")
    assert [d["path"] for d in lines(moved)] == ["/a/before", "/a/between"]
    assert [d["path"] for d in lines(path)] == ["/a/after"]
    assert oct(path.stat().st_mode & 0o777) == "0o640"
    # The error log is a separate stream: no access line on stderr, no diagnostics in the file.
    assert '"path":"/a/' not in gw.stderr_text()
    assert all("msg" not in d for d in lines(path) + lines(moved))


def test_sigusr1_with_stdout_or_off_is_harmless(gateways):
    for target in ("stdout", "off"):
        gw = gateways.new(f"usr1-{target}").start(ROUTE, access_log=target)
        gw.signal(signal.SIGUSR1)
        time.sleep(0.2)
        assert gw.request("GET", "/a/x").status == 200
        assert gw.stop() == 0, gw.describe()


def test_the_shipped_logrotate_file_rotates_and_the_gateway_reopens(gateways, tmp_path):
    logrotate = shutil.which("logrotate") or ("/usr/sbin/logrotate" if os.path.exists("/usr/sbin/logrotate") else None)
    if logrotate is None:
        pytest.skip("logrotate is installed by .ci/run")
    shipped = (ROOT / "deploy/logrotate/gateway").read_text()
    debug = subprocess.run([logrotate, "-d", str(ROOT / "deploy/logrotate/gateway")], capture_output=True, text=True, timeout=30)
    assert debug.returncode == 0 and "error" not in debug.stderr.lower(), debug.stderr

    logs = tmp_path / "logs"
    logs.mkdir(mode=0o750)
    path = logs / "access.log"
    gw = gateways.start(ROUTE, access_log=f"file:{path}")
    gw.request("GET", "/a/first")
    wait_until(lambda: len(lines(path)) == 1, 3, message="the first line")
    # The shipped file, pointed at this test's directory and this gateway's pid.
    assert "/var/log/gateway/*.log" in shipped and "systemctl kill --signal=USR1" in shipped
    conf = tmp_path / "logrotate.conf"
    conf.write_text(shipped.replace("/var/log/gateway/", f"{logs}/").replace(
        "systemctl kill --signal=USR1 --kill-whom=main gateway.service", f"kill -USR1 {gw.pid}"))
    rotated = subprocess.run([logrotate, "-f", "-s", str(tmp_path / "state"), str(conf)], capture_output=True, text=True,
                             timeout=30)
    assert rotated.returncode == 0, rotated.stderr
    wait_until(lambda: "access log reopened" in gw.stderr_text(), 3, message="the reopen after logrotate")
    gw.request("GET", "/a/second")
    wait_until(lambda: len(lines(path)) == 1, 3, message="a line in the fresh file")
    assert [d["path"] for d in lines(logs / "access.log.1")] == ["/a/first"]
    assert [d["path"] for d in lines(path)] == ["/a/second"]


def test_a_log_that_cannot_keep_up_drops_lines_and_never_blocks_requests(gateways, tmp_path):
    # A FIFO nobody reads: the writer thread blocks once the pipe is full, as on a stuck disk.
    fifo = tmp_path / "stuck.log"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        gw = gateways.start(ROUTE, access_log=f"file:{fifo}", admin=True)
        long_path = "/a/" + "x" * 4000   # ~4 KiB lines: the 8 MiB bound is passed in a few thousand requests
        batch = "".join(f"GET {long_path} HTTP/1.1\r\nHost: t\r\n\r\n" for _ in range(100)).encode()
        started = time.monotonic()
        with gw.connect() as c:
            for _ in range(40):
                c.send(batch)
                for _ in range(100):
                    assert c.read_response().status == 200
        elapsed = time.monotonic() - started
        metrics = request(gw.admin_port, "GET", "/metrics").body.decode()
        dropped = [line for line in metrics.splitlines() if line.startswith("gateway_access_log_dropped_lines_total ")]
        assert dropped and float(dropped[0].split()[1]) > 0, dropped
        assert elapsed < 20, elapsed   # 4,000 requests; a blocked loop would never finish
        assert request(gw.port, "GET", "/a/still").status == 200
    finally:
        os.close(reader)
