"""SPEC §15 metrics on the admin listener: `GET /metrics` after mixed traffic, checked by the
real tools operators use (`promtool check metrics`, the official Python client's strict
OpenMetrics parser, and a real Prometheus server that scrapes the gateway and answers PromQL)."""

import json
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

jwt = pytest.importorskip("jwt", reason="PyJWT is installed by scripts/test.sh")

from conftest import HOST, closed_port, free_port, request, upstream_block, wait_until  # noqa: E402

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SECRET = "metrics-secret-0123456789abcdef012345"
ISS, AUD = "https://idp.test", "agent-api"

CONFIG = (
    "jwt {{\n    issuer {iss};\n    audience {aud};\n    key hs HS256 env:TEST_JWT_SECRET;\n}}\n"
    "{up}{dead}"
    "route /pub/{{id}} {{ public; upstream u; }}\n"
    "route /api/** {{ upstream u; }}\n"
    "route /limited/** {{ public; rate_limit 2/min; upstream u; }}\n"
    "route /dead/** {{ public; upstream d; }}\n"
)


def token(sub="user-7", exp_in=600) -> str:
    now = int(time.time())
    return jwt.encode({"iss": ISS, "aud": AUD, "sub": sub, "iat": now, "exp": now + exp_in}, SECRET, algorithm="HS256")


def scrape(gw, accept: str | None = None):
    headers = [("Accept", accept)] if accept else None
    r = request(gw.admin_port, "GET", "/metrics", headers=headers)
    assert r.status == 200, r
    return r


def samples(text: str) -> dict[str, float]:
    """Every sample line as `name{labels}` -> value."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


@pytest.fixture
def gw(gateways, upstream):
    body = CONFIG.format(iss=ISS, aud=AUD, up=upstream_block("u", upstream.port), dead=upstream_block("d", closed_port()))
    return gateways.start(body, admin=True, workers=2, env={"TEST_JWT_SECRET": SECRET})


def mixed_traffic(gw) -> None:
    for i in range(5):
        assert gw.request("GET", f"/pub/item-{i}").status == 200
    good = token()
    for _ in range(3):
        assert gw.request("GET", "/api/me", headers=[("Authorization", "Bearer " + good)]).status == 200
    assert gw.request("GET", "/api/me").status == 401
    assert gw.request("GET", "/api/me", headers=[("Authorization", "Bearer " + good[:-4] + "AAAA")]).status == 401
    assert [gw.request("GET", "/limited/x").status for _ in range(3)] == [200, 200, 429]
    assert gw.request("GET", "/dead/x").status == 502
    assert gw.request("GET", "/nowhere").status == 404


def test_scrape_after_mixed_traffic_counts_by_route_pattern(gw):
    mixed_traffic(gw)
    r = scrape(gw)
    assert r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    assert r.header("Cache-Control") == "no-store"
    text = r.body.decode()
    s = samples(text)
    assert s['gateway_requests_total{route="/pub/{id}",status="2xx",decision="allow"}'] == 5
    assert s['gateway_requests_total{route="/api/**",status="2xx",decision="allow"}'] == 3
    assert s['gateway_requests_total{route="/api/**",status="4xx",decision="deny"}'] == 2
    assert s['gateway_requests_total{route="/limited/**",status="4xx",decision="deny"}'] == 1
    assert s['gateway_requests_total{route="/dead/**",status="5xx",decision="error"}'] == 1
    assert s['gateway_requests_total{route="unmatched",status="4xx",decision="deny"}'] == 1
    assert s['gateway_rate_limited_total{route="/limited/**"}'] == 1
    assert s['gateway_auth_failures_total{reason="credential_missing"}'] == 1
    assert sum(v for k, v in s.items() if k.startswith("gateway_auth_failures_total")) == 2
    assert s['gateway_upstream_errors_total{upstream="d",kind="connect_failed"}'] >= 1
    assert s['gateway_request_duration_seconds_count{route="/pub/{id}"}'] == 5
    assert s['gateway_upstream_duration_seconds_count{upstream="u"}'] == 10
    assert s['gateway_jwt_cache_lookups_total{result="hit"}'] + s['gateway_jwt_cache_lookups_total{result="miss"}'] >= 3
    assert s['gateway_build_info{version="0.1.0"}'] == 1
    assert s["process_open_fds"] > 0 and s["process_resident_memory_bytes"] > 0
    # Bounded label values: route patterns, never raw paths, principals or credentials.
    assert "item-3" not in text and "/nowhere" not in text and "user-7" not in text
    assert SECRET not in text and token()[:20] not in text


def test_promtool_accepts_the_scrape(gw):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian prometheus) is installed by .ci/run")
    mixed_traffic(gw)
    text = scrape(gw).body
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=30)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    assert checked.stdout.strip() == b"" and checked.stderr.strip() == b"", checked


def test_openmetrics_when_asked_parses_strictly(gw):
    parser = pytest.importorskip("prometheus_client.openmetrics.parser", reason="installed by scripts/test.sh")
    mixed_traffic(gw)
    r = scrape(gw, "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
    assert r.header("Content-Type") == "application/openmetrics-text; version=1.0.0; charset=utf-8"
    text = r.body.decode()
    assert text.endswith("# EOF\n")
    families = {f.name: f for f in parser.text_string_to_metric_families(text)}
    assert families["gateway_requests"].type == "counter"
    assert families["gateway_build"].type == "info"
    histogram = families["gateway_request_duration_seconds"]
    assert histogram.type == "histogram"
    counts = [s.value for s in histogram.samples if s.name.endswith("_count") and s.labels["route"] == "/pub/{id}"]
    assert counts == [5]


def test_reloads_and_connections_are_counted(gw, upstream):
    gw.reload(raw_config=gw.config_path.read_text())
    wait_until(lambda: samples(scrape(gw).body.decode())['gateway_config_reloads_total{outcome="success"}'] == 1, 5,
               message="a counted reload")
    gw.write_config(gw.config_path.read_text() + "route /broken { upstream nowhere; }\n")
    gw.signal(signal.SIGHUP)
    wait_until(lambda: samples(scrape(gw).body.decode())['gateway_config_reloads_total{outcome="failure"}'] == 1, 5,
               message="a counted failed reload")
    with gw.connect() as c1, gw.connect() as c2:
        assert c1.request("GET", "/pub/a").status == 200 and c2.request("GET", "/pub/b").status == 200
        # The two held connections, and the scrape's own.
        assert samples(scrape(gw).body.decode())["gateway_connections_active"] >= 3


def test_metrics_only_answers_get_and_head(gw):
    assert request(gw.admin_port, "HEAD", "/metrics").status == 200
    r = request(gw.admin_port, "POST", "/metrics", body=b"x")
    assert r.status == 405 and r.header("Allow") == "GET, HEAD"
    # Not on the public listener.
    assert gw.request("GET", "/metrics").status == 404


def test_metrics_off_counts_nothing_and_hides_the_page(gateways, upstream):
    gw = gateways.start("metrics off;\n" + upstream_block("u", upstream.port) + "route /pub/** { public; upstream u; }\n",
                        admin=True)
    assert gw.request("GET", "/pub/x").status == 200
    assert request(gw.admin_port, "GET", "/metrics").status == 404
    assert request(gw.admin_port, "GET", "/healthz").status == 200


def test_route_label_cardinality_stays_bounded_by_the_config(gw):
    for i in range(200):
        gw.request("GET", f"/pub/{i}")
        gw.request("GET", f"/random-{i}")
    text = scrape(gw).body.decode()
    series = [line for line in text.splitlines() if line.startswith("gateway_requests_total")]
    assert len(series) <= 4, series


def test_a_thousand_routes_scrape_quickly(gateways, upstream):
    routes = "".join(f"route /r{i}/** {{ public; upstream u; }}\n" for i in range(1000))
    gw = gateways.start(upstream_block("u", upstream.port) + routes, admin=True)
    with gw.connect() as c:
        for i in range(0, 1000, 7):
            assert c.request("GET", f"/r{i}/x").status == 200
    scrape(gw)   # warm
    started = time.monotonic()
    text = scrape(gw).body.decode()
    elapsed = time.monotonic() - started
    assert text.count("gateway_request_duration_seconds_count{") == 143 + 1   # the routes used, and the admin's
    # Loose on purpose (a shared CI machine): the measured figure is in the issue note.
    assert elapsed < 0.5, elapsed


# -- a real Prometheus server ----------------------------------------------------------------

def test_a_real_prometheus_scrapes_and_answers_promql(gw, tmp_path):
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        pytest.skip("prometheus (Debian) is installed by .ci/run")
    for i in range(7):
        assert gw.request("GET", f"/pub/{i}").status == 200
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        f"scrape_configs:\n  - job_name: gateway\n    static_configs:\n      - targets: ['{HOST}:{gw.admin_port}']\n")
    proc = subprocess.Popen(
        [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address={HOST}:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "wb"))
    try:
        query = 'sum(gateway_requests_total{route="/pub/{id}",status="2xx"})'
        url = f"http://{HOST}:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})

        def answered():
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    result = json.load(response)["data"]["result"]
            except OSError:
                return None
            return result and float(result[0]["value"][1]) == 7

        wait_until(answered, 40, interval=0.5, message="Prometheus scraped the gateway and answered the query")
        with urllib.request.urlopen(f"http://{HOST}:{port}/api/v1/targets", timeout=2) as response:
            targets = json.load(response)["data"]["activeTargets"]
        assert targets[0]["health"] == "up", targets
        # Every query of the shipped dashboard runs on this Prometheus (a typo is a 400).
        for expr in dashboard_queries():
            query = expr.replace("$instance", ".*").replace("$__rate_interval", "1m")
            url = f"http://{HOST}:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
            with urllib.request.urlopen(url, timeout=5) as response:
                assert json.load(response)["status"] == "success", query
    finally:
        proc.terminate()
        proc.wait(15)


def dashboard_queries() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana/gateway-dashboard.json").read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_the_dashboard_names_only_metrics_the_gateway_exports(gw):
    mixed_traffic(gw)
    exported = {line.split()[2] for line in scrape(gw).body.decode().splitlines() if line.startswith("# TYPE")}
    names = exported | {n + s for n in exported for s in ("_bucket", "_sum", "_count")}
    queries = dashboard_queries()
    assert len(queries) >= 15
    for query in queries:
        for metric in re.findall(r"\b((?:gateway|process)_[a-z_]+)", query):
            assert metric in names, (metric, query)


def test_the_shipped_alert_rules_pass_promtool():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian prometheus) is installed by .ci/run")
    checked = subprocess.run([promtool, "check", "rules", str(DEPLOY / "prometheus/gateway-alerts.yml")],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr
