import Testing

@testable import GatewayCore

@Suite("Rate limit: RateLimit and RateLimit-Policy values (draft-ietf-httpapi-ratelimit-headers-11)")
struct RateLimitHeadersTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func policyValue() {
        let policy = RateLimitPolicy(Rate(count: 600, period: .seconds(60), burst: 100))
        #expect(text(policy.policyHeaderValue) == "\"default\";q=600;w=60")
        #expect(text(RateLimitPolicy(Rate(count: 10_000, period: .seconds(3600)), name: "route").policyHeaderValue) == "\"route\";q=10000;w=3600")
        #expect(text(RateLimitPolicy(Rate(count: 5, period: .seconds(86_400)), name: "a\"b\\c\u{7F}é").policyHeaderValue) == "\"a\\\"b\\\\c???\";q=5;w=86400")
    }

    @Test("allowed: r is the remaining count, t the seconds until the bucket is full")
    func allowedValue() {
        let policy = RateLimitPolicy(Rate(count: 600, period: .seconds(60), burst: 100))
        let decision = RateLimitDecision(allowed: true, limit: 600, remaining: 99, resetSeconds: 1, retryAfterSeconds: 0)
        #expect(text(RateLimitHeaders.value(decision, policy: policy)) == "\"default\";r=99;t=1")
        var bytes = Array("RateLimit: ".utf8)
        RateLimitHeaders.appendValue(decision, policy: policy, to: &bytes)
        #expect(text(bytes) == "RateLimit: \"default\";r=99;t=1")
    }

    @Test("denied: t equals Retry-After, so Retry-After never points before the window's end")
    func deniedValue() {
        let policy = RateLimitPolicy(Rate(count: 1, period: .seconds(60)), name: "auth")
        let decision = RateLimitDecision(allowed: false, limit: 1, remaining: 0, resetSeconds: 60, retryAfterSeconds: 42)
        #expect(text(RateLimitHeaders.value(decision, policy: policy)) == "\"auth\";r=0;t=42")
    }

    @Test(arguments: [(0, "0"), (7, "7"), (10, "10"), (99, "99"), (1_234_567_890, "1234567890"), (-5, "0"),
                      (Int.max, "9223372036854775807")])
    func decimal(value: Int, expected: String) {
        var bytes: [UInt8] = []
        RateLimitHeaders.appendDecimal(value, to: &bytes)
        #expect(text(bytes) == expected)
    }
}
