/// The outcome of one rate-limit check: whether the request may proceed, and the figures the
/// `RateLimit` header and `Retry-After` report. A plain value so the request path allocates
/// nothing; rendered by `RateLimitHeaders`.
package struct RateLimitDecision: Sendable, Equatable {
    /// True when the request is within the limit (and, for `check`, was counted).
    package var allowed: Bool
    /// The policy's `count` per period.
    package var limit: Int
    /// Requests that could be made right now, after this one when it was counted; 0 on a
    /// denial. At most the policy's burst.
    package var remaining: Int
    /// Seconds until the bucket is full again (every request of the burst available), rounded
    /// up; 0 when it already is.
    package var resetSeconds: Int
    /// For a denial: seconds until one request is allowed again, rounded up, at least 1
    /// (the `Retry-After` value). 0 when allowed.
    package var retryAfterSeconds: Int

    package init(allowed: Bool, limit: Int, remaining: Int, resetSeconds: Int, retryAfterSeconds: Int) {
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.resetSeconds = resetSeconds
        self.retryAfterSeconds = retryAfterSeconds
    }
}
