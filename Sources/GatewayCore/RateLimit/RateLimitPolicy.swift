/// One rate limit, compiled from a `Rate` for the generic cell rate algorithm (GCRA): the
/// arithmetic a `RateLimiter` applies to a bucket's only state, its theoretical arrival
/// time (TAT). Built once at config load (or when a key's stored limit is first seen), so the
/// request path does integer arithmetic only.
///
/// Semantics of `count/period burst=B`: one request is "emitted" every
/// `T = period / count` (the emission interval, rounded up to whole nanoseconds, so the
/// limiter never allows more than configured). A bucket may run up to `B × T` ahead of now:
/// an idle principal can send `B` requests at once, after which requests are allowed one per
/// `T` as the bucket refills continuously. When `burst` is not written, `B = count`: the whole
/// quota of one period may be spent at once, and it then refills at `count` per `period`
/// (so `600/min` allows 600 immediately, then one every 100 ms).
///
/// A denial does not consume: a client hammering a closed bucket does not push its own
/// recovery further away. Any thread (an immutable value).
package struct RateLimitPolicy: Sendable, Equatable {
    /// The configured rate (for logs and `check-config`).
    package let rate: Rate
    /// Requests per period: the `count` of the rate (the draft's quota `q`).
    package let limit: Int
    /// Requests allowed at once from an idle bucket: `burst`, or `count` when unset.
    package let burst: Int
    /// The period in whole seconds (the draft's window `w`); at least 1.
    package let windowSeconds: Int
    /// `T`: nanoseconds between two requests at the steady rate; at least 1.
    package let emissionInterval: Int64
    /// `B × T`: how far (in nanoseconds) a bucket's TAT may run ahead of now. Saturated at
    /// 2^61 ns (about 73 years) so TAT arithmetic never overflows.
    package let tolerance: Int64
    /// The policy's name in the `RateLimit-Policy` and `RateLimit` headers, already a quoted
    /// structured-field string (`"default"`).
    package let headerName: [UInt8]
    /// The whole `RateLimit-Policy` value, rendered once (`"default";q=600;w=60`).
    package let policyHeaderValue: [UInt8]

    /// Compiles `rate`.
    /// - Parameters:
    ///   - rate: count ≥ 1 per period; a nil `burst` means `burst = count`.
    ///   - name: the policy identifier in headers: printable ASCII (others become `?`);
    ///     `"` and `\` are escaped.
    package init(_ rate: Rate, name: String = "default") {
        self.rate = rate
        limit = max(1, rate.count)
        burst = max(1, rate.burst ?? rate.count)
        let (seconds, attoseconds) = rate.period.components
        let periodNanoseconds = max(1, seconds.multipliedSaturating(1_000_000_000) + attoseconds / 1_000_000_000)
        windowSeconds = Int(max(1, (periodNanoseconds + 999_999_999) / 1_000_000_000))
        let count = Int64(limit)
        emissionInterval = max(1, periodNanoseconds / count + (periodNanoseconds % count == 0 ? 0 : 1))
        tolerance = min(Int64(burst).multipliedSaturating(emissionInterval), 1 << 61)
        headerName = RateLimitHeaders.quoted(name)
        policyHeaderValue = RateLimitHeaders.policyValue(name: headerName, limit: limit, windowSeconds: windowSeconds)
    }

    /// Applies one request to a bucket whose TAT is `tat` (pure GCRA step).
    /// - Parameters:
    ///   - tat: the stored theoretical arrival time in nanoseconds; nil for a bucket never
    ///     seen (or dropped), which is the same as any `tat <= now`: a full bucket.
    ///   - now: the current monotonic time in nanoseconds.
    ///   - consume: true to spend one request when allowed (`check`); false to only ask
    ///     (`peek`).
    /// - Returns: the decision, and the TAT to store (unchanged when denied or peeking).
    package func evaluate(tat: Int64?, nowNanoseconds now: Int64, consume: Bool) -> (RateLimitDecision, tat: Int64?) {
        let start = max(tat ?? now, now)
        let next = start + emissionInterval
        guard next - now <= tolerance else {
            // Allowed again once `next - tolerance` is reached.
            let wait = next - tolerance - now
            let decision = RateLimitDecision(
                allowed: false, limit: limit, remaining: 0, resetSeconds: Self.seconds(roundingUp: start - now),
                retryAfterSeconds: max(1, Self.seconds(roundingUp: wait)))
            return (decision, tat)
        }
        let stored = consume ? next : start
        let remaining = Int((tolerance - (stored - now)) / emissionInterval)
        let decision = RateLimitDecision(
            allowed: true, limit: limit, remaining: min(remaining, burst),
            resetSeconds: Self.seconds(roundingUp: stored - now), retryAfterSeconds: 0)
        return (decision, consume ? next : tat)
    }

    /// Whole seconds in `nanoseconds`, rounded up (0 for none).
    private static func seconds(roundingUp nanoseconds: Int64) -> Int {
        nanoseconds <= 0 ? 0 : Int((nanoseconds - 1) / 1_000_000_000 + 1)
    }
}

extension Int64 {
    /// `self × other`, clamped to `Int64.max` on overflow (both non-negative).
    fileprivate func multipliedSaturating(_ other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? .max : product
    }
}

extension RateLimitPolicy {
    /// The policy of an API key's stored limit (`KeyRecord.rateLimit`: `100/min` or
    /// `100/min burst=5`), which replaces the default limit for that key.
    /// - Throws: `ConfigValueError` when the stored text is not a rate.
    package init(storedRate text: String, name: String = "default") throws(ConfigValueError) {
        self.init(try ConfigValue.storedRate(text), name: name)
    }

    /// A key's stored limit as the policy its bucket uses (`"key"`); nil when it has none or
    /// the stored text is not a rate.
    package static func ofKey(_ storedRate: String?) -> RateLimitPolicy? {
        storedRate.flatMap { try? RateLimitPolicy(storedRate: $0, name: "key") }
    }
}
