extension AccessPipeline {
    /// SPEC §7: counts the request against its principal's bucket — the route's own limit,
    /// else the API key's stored limit, else the configured default — and renders the
    /// `RateLimit-Policy`/`RateLimit` lines for the response into `state.rateLimitHeaders`.
    /// - Returns: `.allow`, or the refusal when the bucket is empty.
    func rateLimit(
        _ route: CompiledRoute, _ result: AccessResult, _ request: AccessRequest, _ state: inout AccessState,
        _ clock: AccessClock, _ trace: AccessTrace?
    ) -> AccessVerdict {
        let policy: RateLimitPolicy
        let scope: Int
        switch route.rateLimit {
        case .off:
            return .allow
        case .route(let routePolicy, let routeScope):
            (policy, scope) = (routePolicy, routeScope)
        case .inherit:
            guard let inherited = result.rendered?.keyRateLimit ?? defaultRateLimit else { return .allow }
            (policy, scope) = (inherited, CompiledRateLimit.defaultScope)
        }
        let limiter = limiters.requests
        // Principals: the key id for API keys (and the tokens exchanged for one), issuer +
        // subject for other JWTs, the client address for anonymous callers; the kind is folded
        // into the scope so the namespaces never meet.
        let key: RateLimitKey
        if let identity = result.identity {
            if let keyID = identity.method == .apiKey ? identity.keyID : identity.exchangedKeyID {
                key = keyBucket(limiter, scope: scope, keyID: keyID)
            } else {
                key = limiter.key(scope: scope &* 4 &+ 2, issuer: identity.issuer ?? "", subject: identity.subject ?? identity.userID)
            }
        } else {
            key = clientAddressKey(limiter, scope: scope &* 4, request, &state)
        }
        let decision = limiter.check(key, policy: policy, now: clock.now)
        trace?.record(.rateLimit(policy, decision))
        state.rateLimitHeaders.append(contentsOf: "RateLimit-Policy: ".utf8)
        state.rateLimitHeaders.append(contentsOf: policy.policyHeaderValue)
        state.rateLimitHeaders.append(contentsOf: "\r\nRateLimit: ".utf8)
        RateLimitHeaders.appendValue(decision, policy: policy, to: &state.rateLimitHeaders)
        state.rateLimitHeaders.append(contentsOf: "\r\n".utf8)
        return decision.allowed ? .allow : .refuse(.rateLimited(retryAfter: decision.retryAfterSeconds))
    }

    /// A token request (SPEC §10) spends its key's bucket under the key's stored limit, else
    /// the default one, like a request made with the key: exchanging a key for tokens is no
    /// way around its limit. - Returns: the seconds until it may try again, or nil.
    func spendKeyBucket(_ record: KeyRecord, _ clock: AccessClock) -> Int? {
        guard let policy = RateLimitPolicy.ofKey(record.rateLimit) ?? defaultRateLimit else { return nil }
        let limiter = limiters.requests
        let key = keyBucket(limiter, scope: CompiledRateLimit.defaultScope, keyID: record.id)
        let decision = limiter.check(key, policy: policy, now: clock.now)
        return decision.allowed ? nil : decision.retryAfterSeconds
    }

    /// The bucket of API key `keyID` in `scope` (the kind folded into the scope: 1 for keys).
    private func keyBucket(_ limiter: RateLimiter, scope: Int, keyID: String) -> RateLimitKey {
        limiter.key(scope: scope &* 4 &+ 1, principal: keyID)
    }

    /// `auth_failure_limit`: whether the client address used up its failed authentications.
    /// - Returns: the seconds until it may try again, or nil.
    func lockedOut(_ request: AccessRequest, _ state: inout AccessState, _ clock: AccessClock) -> Int? {
        guard let policy = authFailureLimit else { return nil }
        let limiter = limiters.authFailures
        let decision = limiter.peek(clientAddressKey(limiter, scope: 0, request, &state), policy: policy, now: clock.now)
        return decision.allowed ? nil : decision.retryAfterSeconds
    }

    /// Counts one failed authentication against the client address.
    func countAuthFailure(_ request: AccessRequest, _ state: inout AccessState, _ clock: AccessClock) {
        guard let policy = authFailureLimit else { return }
        let limiter = limiters.authFailures
        _ = limiter.check(clientAddressKey(limiter, scope: 0, request, &state), policy: policy, now: clock.now)
    }

    /// The bucket of the client's address in `scope`.
    private func clientAddressKey(
        _ limiter: RateLimiter, scope: Int, _ request: AccessRequest, _ state: inout AccessState
    ) -> RateLimitKey {
        clientAddress(request, &state).withUnsafeBytes { limiter.key(scope: scope, principal: $0) }
    }

    /// The client's address as per-address limits count it (worked out once per decision).
    func clientAddress(_ request: AccessRequest, _ state: inout AccessState) -> [UInt8] {
        if let known = state.clientAddress { return known }
        let address = ClientAddress.forLimits(request, trustProxies: trustProxies)
        state.clientAddress = address
        return address
    }
}
