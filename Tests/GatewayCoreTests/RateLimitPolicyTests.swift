import Testing

@testable import GatewayCore

/// Nanoseconds in `ms` milliseconds.
private func ms(_ ms: Int64) -> Int64 { ms * 1_000_000 }

/// Drives one bucket through a policy with an injected clock (nanoseconds).
private struct Bucket {
    let policy: RateLimitPolicy
    var tat: Int64? = nil

    init(_ rate: Rate) { policy = RateLimitPolicy(rate) }

    mutating func check(at now: Int64) -> RateLimitDecision {
        let (decision, next) = policy.evaluate(tat: tat, nowNanoseconds: now, consume: true)
        tat = next
        return decision
    }

    func peek(at now: Int64) -> RateLimitDecision {
        policy.evaluate(tat: tat, nowNanoseconds: now, consume: false).0
    }
}

@Suite("Rate limit: GCRA policy")
struct RateLimitPolicyTests {
    @Test("1/s: one request, then one per second")
    func onePerSecond() {
        var bucket = Bucket(Rate(count: 1, period: .seconds(1)))
        #expect(bucket.check(at: 0) == RateLimitDecision(allowed: true, limit: 1, remaining: 0, resetSeconds: 1, retryAfterSeconds: 0))
        #expect(bucket.check(at: 0) == RateLimitDecision(allowed: false, limit: 1, remaining: 0, resetSeconds: 1, retryAfterSeconds: 1))
        #expect(bucket.check(at: ms(999)).allowed == false)
        #expect(bucket.check(at: ms(1000)).allowed)
        #expect(bucket.check(at: ms(1999)).allowed == false)
        #expect(bucket.check(at: ms(5000)).allowed)
    }

    @Test("without burst the whole count may be spent at once (burst = count)")
    func burstDefaultsToCount() {
        var bucket = Bucket(Rate(count: 5, period: .seconds(1)))
        #expect(bucket.policy.burst == 5)
        for remaining in (0..<5).reversed() {
            #expect(bucket.check(at: 0) == RateLimitDecision(allowed: true, limit: 5, remaining: remaining, resetSeconds: 1, retryAfterSeconds: 0))
        }
        #expect(bucket.check(at: 0).allowed == false)
        // Refills at count/period: one every 200 ms.
        #expect(bucket.check(at: ms(199)).allowed == false)
        #expect(bucket.check(at: ms(200)).allowed)
    }

    @Test("600/min burst=100: exact burst, then deny; refill one per 100 ms")
    func burstThenRefill() {
        var bucket = Bucket(Rate(count: 600, period: .seconds(60), burst: 100))
        #expect(bucket.policy.emissionInterval == ms(100))
        for n in 1...100 {
            let decision = bucket.check(at: 0)
            #expect(decision.allowed && decision.remaining == 100 - n && decision.limit == 600)
        }
        let denied = bucket.check(at: 0)
        #expect(denied == RateLimitDecision(allowed: false, limit: 600, remaining: 0, resetSeconds: 10, retryAfterSeconds: 1))
        #expect(bucket.check(at: ms(99)).allowed == false)
        #expect(bucket.check(at: ms(100)) == RateLimitDecision(allowed: true, limit: 600, remaining: 0, resetSeconds: 10, retryAfterSeconds: 0))
        #expect(bucket.check(at: ms(150)).allowed == false)
        // Ten seconds after the last request the bucket is full again.
        #expect(bucket.peek(at: ms(10_100)) == RateLimitDecision(allowed: true, limit: 600, remaining: 100, resetSeconds: 0, retryAfterSeconds: 0))
        #expect(bucket.peek(at: ms(10_099)).remaining == 99)
    }

    @Test("10000/h: the hour's quota at once, then one per 360 ms")
    func tenThousandPerHour() {
        var bucket = Bucket(Rate(count: 10_000, period: .seconds(3600)))
        #expect(bucket.policy.emissionInterval == ms(360))
        #expect(bucket.policy.windowSeconds == 3600)
        for _ in 0..<10_000 { #expect(bucket.check(at: 0).allowed) }
        #expect(bucket.check(at: 0) == RateLimitDecision(allowed: false, limit: 10_000, remaining: 0, resetSeconds: 3600, retryAfterSeconds: 1))
        #expect(bucket.check(at: ms(359)).allowed == false)
        #expect(bucket.check(at: ms(360)).allowed)
        #expect(bucket.check(at: ms(360)).allowed == false)
    }

    @Test("Retry-After is rounded up and at least 1")
    func retryAfterRounding() {
        var bucket = Bucket(Rate(count: 1, period: .seconds(60)))
        #expect(bucket.check(at: 0).allowed)
        #expect(bucket.check(at: 0).retryAfterSeconds == 60)
        #expect(bucket.check(at: ms(1)).retryAfterSeconds == 60)
        #expect(bucket.check(at: ms(500)).retryAfterSeconds == 60)
        #expect(bucket.check(at: ms(1000)).retryAfterSeconds == 59)
        #expect(bucket.check(at: ms(58_999)).retryAfterSeconds == 2)
        #expect(bucket.check(at: ms(59_000)).retryAfterSeconds == 1)
        #expect(bucket.check(at: ms(59_999)).retryAfterSeconds == 1)
        #expect(bucket.check(at: ms(60_000)).allowed)
    }

    @Test("remaining and reset while partly refilled")
    func remainingAndReset() {
        var bucket = Bucket(Rate(count: 10, period: .seconds(1), burst: 5))
        for _ in 0..<3 { _ = bucket.check(at: 0) }
        // TAT = 300 ms: at 150 ms, 3.5 requests' worth are free -> 3; full at 300 ms -> reset 1 s.
        #expect(bucket.peek(at: ms(150)) == RateLimitDecision(allowed: true, limit: 10, remaining: 3, resetSeconds: 1, retryAfterSeconds: 0))
        // A long window: 2/min burst=2 spent, reset is a minute away.
        var slow = Bucket(Rate(count: 2, period: .seconds(60)))
        _ = slow.check(at: 0)
        #expect(slow.check(at: 0) == RateLimitDecision(allowed: true, limit: 2, remaining: 0, resetSeconds: 60, retryAfterSeconds: 0))
        #expect(slow.check(at: ms(1)) == RateLimitDecision(allowed: false, limit: 2, remaining: 0, resetSeconds: 60, retryAfterSeconds: 30))
    }

    @Test("a denial and a peek consume nothing")
    func denialAndPeekDoNotConsume() {
        var bucket = Bucket(Rate(count: 1, period: .seconds(1)))
        #expect(bucket.peek(at: 0).allowed)
        #expect(bucket.tat == nil)
        _ = bucket.check(at: 0)
        let tat = bucket.tat
        for step in Int64(0)..<10 { #expect(bucket.check(at: ms(step * 100)).allowed == false) }
        #expect(bucket.tat == tat)
        #expect(bucket.check(at: ms(1000)).allowed)
    }

    @Test("huge rates and bursts saturate instead of overflowing")
    func saturation() {
        let policy = RateLimitPolicy(Rate(count: 1, period: .seconds(86_400), burst: 1_000_000_000))
        #expect(policy.tolerance == 1 << 61)
        let fast = RateLimitPolicy(Rate(count: 1_000_000_000, period: .seconds(1)))
        #expect(fast.emissionInterval == 1)
        #expect(fast.evaluate(tat: nil, nowNanoseconds: 0, consume: true).0.allowed)
    }

    @Test("a key's stored limit parses into a policy")
    func storedRate() throws {
        #expect(try RateLimitPolicy(storedRate: "100/min").rate == Rate(count: 100, period: .seconds(60)))
        #expect(try RateLimitPolicy(storedRate: "100/min burst=5").burst == 5)
        #expect(try RateLimitPolicy(storedRate: " 5/s  burst=2 ").rate == Rate(count: 5, period: .seconds(1), burst: 2))
        for bad in ["", "100", "100/min burst=5 x", "burst=5", "100/min 5", "0/s"] {
            #expect(throws: ConfigValueError.self, "\(bad)") { try RateLimitPolicy(storedRate: bad) }
        }
    }
}
