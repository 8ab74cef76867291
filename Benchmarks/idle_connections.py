#!/usr/bin/env python3
"""Resident memory of the gateway holding N idle keep-alive client connections.

Starts a tiny keep-alive upstream and the release gateway (workers 1, access_log off) on
loopback, opens N connections, sends one proxied request on each and keeps them open, then
reads VmRSS / VmHWM of the gateway from /proc. Bounded: every socket has a timeout and the
whole run takes a few seconds.

    python3 Benchmarks/idle_connections.py [--connections 1000] [--tls] [--bin .build/release/gateway]

--tls: the listener is a TLS one (a throwaway ECDSA P-256 certificate made with `openssl`), and
each client holds a TLS 1.3 session.
"""
import argparse, os, resource, signal, socket, ssl, subprocess, sys, tempfile, threading, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def upstream_server(port, stop):
    srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port)); srv.listen(512); srv.settimeout(0.5)
    def serve(c):
        c.settimeout(30)
        buf = b""
        try:
            while not stop.is_set():
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d: return
                    buf += d
                _, buf = buf.split(b"\r\n\r\n", 1)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except OSError:
            pass
        finally:
            c.close()
    while not stop.is_set():
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(c,), daemon=True).start()
    srv.close()

def status_kib(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "gateway"))
    ap.add_argument("--tls", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gw-idle-")
    listen = ""
    client_tls = None
    if args.tls:
        cert, key = os.path.join(work, "c.pem"), os.path.join(work, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        listen = f" tls {{ certificate file:{cert}; key file:{key}; }}"
        client_tls = ssl.create_default_context(cafile=cert)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.connections * 2 + 256)), hard))

    stop = threading.Event()
    up = free_port(); gw = free_port()
    threading.Thread(target=upstream_server, args=(up, stop), daemon=True).start()
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write(f"listen 127.0.0.1:{gw}{listen}\n" if listen else f"listen 127.0.0.1:{gw};\n")
    conf.write(f"workers 1;\naccess_log off;\nlimits {{ idle_timeout 60s; }}\n"
               f"upstream up {{ server 127.0.0.1:{up}; keepalive 64; }}\nroute /** {{ public; upstream up; }}\n")
    conf.close()
    proc = subprocess.Popen([args.bin, "serve", "--config", conf.name], stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", gw), timeout=1).close(); break
            except OSError:
                time.sleep(0.05)
        base = status_kib(proc.pid, "VmRSS")
        conns = []
        for i in range(args.connections):
            c = socket.create_connection(("127.0.0.1", gw), timeout=5)
            if client_tls: c = client_tls.wrap_socket(c, server_hostname="127.0.0.1")
            c.sendall(b"GET /idle HTTP/1.1\r\nHost: bench\r\n\r\n")
            data = b""
            while not data.endswith(b"ok"):
                d = c.recv(4096)
                if not d: raise SystemExit(f"connection {i} closed early")
                data += d
            conns.append(c)
        time.sleep(0.5)
        rss = status_kib(proc.pid, "VmRSS"); hwm = status_kib(proc.pid, "VmHWM")
        print(f"idle keep-alive {'TLS ' if args.tls else ''}connections: {len(conns)}")
        print(f"gateway VmRSS before: {base / 1024:.1f} MiB, with connections: {rss / 1024:.1f} MiB, peak (VmHWM): {hwm / 1024:.1f} MiB")
        print(f"per connection: {(rss - base) / max(1, len(conns)):.1f} KiB")
        for c in conns: c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try: proc.wait(timeout=15)
        except subprocess.TimeoutExpired: proc.kill()
        stop.set()
        os.unlink(conf.name)

if __name__ == "__main__":
    main()
