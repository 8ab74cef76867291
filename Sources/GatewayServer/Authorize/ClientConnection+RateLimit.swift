import GatewayCore
import GatewayHTTP
import GatewaySupport
import GatewaySystem

extension ClientConnection {
    /// SPEC §7: counts the request against its principal's bucket — the route's own limit,
    /// else the API key's stored limit, else the configured default — and renders the
    /// `RateLimit-Policy`/`RateLimit` lines for the response.
    /// - Returns: nil when allowed (or not limited), else the 429 to answer.
    func applyRateLimit(_ route: CompiledRoute) -> AccessDecision? {
        let policy: RateLimitPolicy
        let scope: Int
        switch route.rateLimit {
        case .off:
            return nil
        case .route(let routePolicy, let routeScope):
            (policy, scope) = (routePolicy, routeScope)
        case .inherit:
            guard let inherited = renderedIdentity?.keyRateLimit ?? runtime.defaultRateLimit else { return nil }
            (policy, scope) = (inherited, CompiledRateLimit.defaultScope)
        }
        let limiter = loop.shared.rateLimiter
        // Principals: the key id for API keys, issuer + subject for JWTs, the client address for
        // anonymous callers; the kind is folded into the scope so the namespaces never meet.
        let key: RateLimitKey
        if let identity {
            if identity.method == .apiKey, let keyID = identity.keyID {
                key = limiter.key(scope: scope &* 4 &+ 1, principal: keyID)
            } else {
                key = limiter.key(scope: scope &* 4 &+ 2, issuer: identity.issuer ?? "", subject: identity.subject ?? identity.userID)
            }
        } else {
            key = clientAddressKey(limiter, scope: scope &* 4)
        }
        let decision = limiter.check(key, policy: policy, now: loop.now)
        rateLimitHeaders.append(contentsOf: "RateLimit-Policy: ".utf8)
        rateLimitHeaders.append(contentsOf: policy.policyHeaderValue)
        rateLimitHeaders.append(contentsOf: "\r\nRateLimit: ".utf8)
        RateLimitHeaders.appendValue(decision, policy: policy, to: &rateLimitHeaders)
        rateLimitHeaders.append(contentsOf: "\r\n".utf8)
        return decision.allowed ? nil : .reject(.rateLimited(retryAfter: decision.retryAfterSeconds), reason: "rate_limited")
    }

    /// `auth_failure_limit`: whether the client address may still try a credential.
    /// - Returns: the 429 to answer when its failures are used up; nil otherwise.
    func authFailureGate() -> AccessDecision? {
        guard let policy = runtime.authFailureLimit else { return nil }
        let limiter = loop.shared.authFailureLimiter
        let decision = limiter.peek(clientAddressKey(limiter, scope: 0), policy: policy, now: loop.now)
        return decision.allowed ? nil : .reject(.rateLimited(retryAfter: decision.retryAfterSeconds), reason: "auth_failures")
    }

    /// Counts one failed authentication against the client address.
    func noteAuthFailure() {
        guard let policy = runtime.authFailureLimit else { return }
        let limiter = loop.shared.authFailureLimiter
        _ = limiter.check(clientAddressKey(limiter, scope: 0), policy: policy, now: loop.now)
    }

    /// The bucket of the client's address in `scope`.
    private func clientAddressKey(_ limiter: RateLimiter, scope: Int) -> RateLimitKey {
        if requestClientAddress == nil { requestClientAddress = clientAddress() }
        return requestClientAddress!.withUnsafeBytes { limiter.key(scope: scope, principal: $0) }
    }

    /// The client's address, once per request: the peer, or behind a trusted proxy the
    /// rightmost `X-Forwarded-For` hop that is not itself trusted (an unparsable hop counts as
    /// untrusted, by its text). IPv6 addresses count per /64: a host gets a whole /64, so single
    /// addresses cost an attacker nothing.
    private func clientAddress() -> [UInt8] {
        var address = peer.address
        if runtime.trusts(peer) {
            let bytes = input.readableBytes
            search: for field in head.headers.reversed() where field.name == .xForwardedFor {
                var end = field.valueStart + field.valueCount
                while end > field.valueStart {
                    var start = end
                    while start > field.valueStart, bytes[start - 1] != UInt8(ascii: ",") { start -= 1 }
                    let hopEnd = end
                    end = start - 1
                    var (s, e) = (start, hopEnd)
                    while s < e, HTTPBytes.isOWS(bytes[s]) { s += 1 }
                    while e > s, HTTPBytes.isOWS(bytes[e - 1]) { e -= 1 }
                    guard s < e else { continue }
                    let text = String(decoding: bytes[s..<e], as: UTF8.self)
                    guard let hop = SocketAddress(host: text, port: 0) else {
                        address = Array(text.utf8)
                        break search
                    }
                    if !runtime.trusts(hop) {
                        address = hop.address
                        break search
                    }
                }
            }
        }
        if address.count == 16 { address.removeLast(8) }
        return address
    }
}
