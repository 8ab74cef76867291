#!/usr/bin/env python3
"""How long a /metrics scrape takes with many routes in use.

Starts the release gateway (2 workers) with ROUTES `respond` routes and an admin listener,
sends one request to every route (so every route has a request counter and a histogram on the
page), then scrapes /metrics SCRAPES times over fresh connections and prints the page size and
the median, fastest and slowest scrape. Loopback only; bounded by socket timeouts.

    python3 Benchmarks/scrape_time.py [--routes 1000] [--scrapes 20] [--bin .build/release/gateway]
"""
import argparse, os, socket, statistics, subprocess, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument("--routes", type=int, default=1000)
parser.add_argument("--scrapes", type=int, default=20)
parser.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "gateway"))
args = parser.parse_args()

work = tempfile.mkdtemp()
config, ready = os.path.join(work, "g.conf"), os.path.join(work, "ready")
with open(config, "w") as f:
    f.write("listen 127.0.0.1:0;\nadmin_listen 127.0.0.1:0;\nworkers 2;\naccess_log off;\n")
    f.writelines(f'route /r{i}/** {{ public; respond 200 "x"; }}\n' for i in range(args.routes))
gateway = subprocess.Popen([args.bin, "serve", "--config", config, "--ready-file", ready], stderr=subprocess.DEVNULL)
try:
    deadline = time.monotonic() + 20
    while not (os.path.exists(ready) and open(ready).read().count("\n") >= 2):
        if time.monotonic() > deadline or gateway.poll() is not None:
            raise SystemExit("the gateway did not start")
        time.sleep(0.05)
    ports = {line.split()[0]: int(line.rsplit(":", 1)[1]) for line in open(ready).read().splitlines()}
    with socket.create_connection(("127.0.0.1", ports["listen"]), timeout=10) as s:
        for i in range(args.routes):
            s.sendall(f"GET /r{i}/x HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            answer = b""
            while not answer.endswith(b"x"):
                answer += s.recv(4096)
    times, page = [], b""
    for _ in range(args.scrapes):
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", ports["admin_listen"]), timeout=10) as c:
            c.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            page = b""
            while data := c.recv(1 << 20):
                page += data
        times.append((time.perf_counter() - started) * 1000)
    lines = page.count(b"\n")
    print(f"{args.routes} routes: page {len(page):,} bytes, {lines:,} lines; scrape median "
          f"{statistics.median(times):.1f} ms, fastest {min(times):.1f} ms, slowest {max(times):.1f} ms "
          f"({args.scrapes} scrapes)")
finally:
    gateway.terminate()
    gateway.wait(10)
