@testable import GatewayServer
import GatewaySupport
import GatewaySystem
import Testing

@Suite("Metrics")
struct MetricsTests {
    @Test("counters add and set; a reader sees the writer's values")
    func counterBlock() {
        let block = CounterBlock(count: 4)
        block.add(1)
        block.add(1, 41)
        block.set(3, 7)
        #expect((0..<4).map(block.value) == [0, 42, 0, 7])
    }

    @Test("label slots are stable, bounded, and overflow into one `other` slot")
    func labelSlots() {
        let slots = LabelSlots(capacity: 4)
        #expect(slots.slot(for: "/a") == 0)
        #expect(slots.slot(for: "/b") == 1)
        #expect(slots.slot(for: "/a") == 0)
        #expect(slots.slot(for: "/c") == 2)
        #expect(slots.slot(for: "/d") == 3)
        #expect(slots.slot(for: "/e") == 3)
        #expect(slots.slot(for: "/c") == 2)
        #expect(slots.names() == ["/a", "/b", "/c", LabelSlots.overflowLabel])
    }

    @Test("durations fall in the first bucket whose bound is not below them", arguments: [
        (0, 0), (500, 0), (501, 1), (1_000, 1), (2_499, 2), (60_000_000, 15), (60_000_001, 16), (UInt64.max, 16),
    ])
    func buckets(micros: UInt64, bucket: Int) {
        #expect(LatencyBuckets.bucket(microseconds: micros) == bucket)
        #expect(LatencyBuckets.labels.count == LatencyBuckets.boundsMicroseconds.count)
    }

    @Test("Accept picks OpenMetrics only when it is named", arguments: [
        ("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", MetricsFormat.openMetrics),
        ("Application/OpenMetrics-Text", .openMetrics),
        ("text/plain", .prometheus), ("*/*", .prometheus), ("", .prometheus), ("application/openmetrics", .prometheus),
    ])
    func negotiation(accept: String, format: MetricsFormat) {
        #expect(MetricsFormat(accept: accept.utf8) == format)
    }

    @Test("the classic format names counters with _total in TYPE; OpenMetrics does not and ends with # EOF")
    func formats() {
        func render(_ format: MetricsFormat) -> String {
            var page = MetricsExposition(format: format)
            page.family("x_requests", .counter, help: "Requests.")
            page.sample(["route": "/a"], 3)
            page.family("x_build", .info, help: "Build.")
            page.sample(["version": "1"], 1)
            return String(decoding: page.finish(), as: UTF8.self)
        }
        #expect(render(.prometheus) == """
            # HELP x_requests_total Requests.
            # TYPE x_requests_total counter
            x_requests_total{route="/a"} 3
            # HELP x_build_info Build.
            # TYPE x_build_info gauge
            x_build_info{version="1"} 1

            """)
        #expect(render(.openMetrics) == """
            # HELP x_requests Requests.
            # TYPE x_requests counter
            x_requests_total{route="/a"} 3
            # HELP x_build Build.
            # TYPE x_build info
            x_build_info{version="1"} 1
            # EOF

            """)
    }

    @Test("label values escape backslash, quote and newline")
    func escaping() {
        var page = MetricsExposition(format: .prometheus)
        page.family("x", .gauge, help: "X.")
        page.sample(["route": "/a\\b\"c\nd"], fraction: 1.5)
        #expect(String(decoding: page.finish(), as: UTF8.self).hasSuffix("x{route=\"/a\\\\b\\\"c\\nd\"} 1.5\n"))
    }

    @Test("histograms are cumulative, end with +Inf, and carry sum and count")
    func histogram() {
        var page = MetricsExposition(format: .prometheus)
        page.family("x_seconds", .histogram, help: "X.")
        page.histogram(["route": "/a"], bounds: ["0.1", "1"], counts: [2, 0, 1], sum: 4.25)
        let lines = String(decoding: page.finish(), as: UTF8.self).split(separator: "\n").dropFirst(2)
        #expect(Array(lines) == [
            "x_seconds_bucket{route=\"/a\",le=\"0.1\"} 2", "x_seconds_bucket{route=\"/a\",le=\"1\"} 2",
            "x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3", "x_seconds_sum{route=\"/a\"} 4.25", "x_seconds_count{route=\"/a\"} 3",
        ])
    }

    @Test("the page sums every loop's counters per label and leaves out series that never counted")
    func pageSumsLoops() {
        let registry = MetricsRegistry(loopCount: 2)
        let route = registry.routes.slot(for: "/v1/sessions/{id}")
        let upstream = registry.upstreams.slot(for: "agents")
        registry.loops[0].requestFinished(route: route, status: 200, decision: .allow, microseconds: 300)
        registry.loops[1].requestFinished(route: route, status: 204, decision: .allow, microseconds: 2_000)
        registry.loops[1].requestFinished(route: registry.unmatchedRoute, status: 404, decision: .deny, microseconds: 10)
        registry.loops[0].upstreamFailed(upstream: upstream, kind: .connectFailed, ejected: true)
        registry.loops[1].upstreamFailed(upstream: upstream, kind: .connectFailed, ejected: false)
        let snapshot = MetricsSnapshot(openConnections: 3, accessLogDropped: 0, process: ProcessStats())
        let text = String(decoding: MetricsPage.render(registry, snapshot, format: .prometheus), as: UTF8.self)
        #expect(text.contains("gateway_requests_total{route=\"/v1/sessions/{id}\",status=\"2xx\",decision=\"allow\"} 2\n"))
        #expect(text.contains("gateway_requests_total{route=\"unmatched\",status=\"4xx\",decision=\"deny\"} 1\n"))
        #expect(!text.contains("status=\"5xx\""))
        #expect(!text.contains("route=\"admin\""))
        #expect(text.contains("gateway_request_duration_seconds_bucket{route=\"/v1/sessions/{id}\",le=\"0.0005\"} 1\n"))
        #expect(text.contains("gateway_request_duration_seconds_bucket{route=\"/v1/sessions/{id}\",le=\"0.0025\"} 2\n"))
        #expect(text.contains("gateway_request_duration_seconds_sum{route=\"/v1/sessions/{id}\"} 0.0023\n"))
        #expect(text.contains("gateway_upstream_errors_total{upstream=\"agents\",kind=\"connect_failed\"} 2\n"))
        #expect(text.contains("gateway_upstream_ejections_total{upstream=\"agents\"} 1\n"))
        #expect(text.contains("gateway_connections_active 3\n"))
    }
}
