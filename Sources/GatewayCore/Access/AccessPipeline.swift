import GatewayHTTP

/// The one access decision of SPEC §4-§7, as Oathkeeper's `HandleRequest` or Envoy's
/// ext_authz check: a function of a request view and per-loop scratch that returns a closed
/// verdict. The proxy, the decision endpoint and `gateway explain` call it; none of them
/// re-implements a stage.
///
/// Stages, in order; the first refusal answers:
/// 1. (the caller) normalize the path: a path that cannot be authorized unambiguously is a 400
///    (`DenyReason.badPath`) before the pipeline runs;
/// 2. a method-override header naming another method is a 400 (`DenyReason.methodOverride`);
///    then match the route (404, 405); a `deny;` route refuses here;
/// 3. public routes skip to the rate limit;
/// 4. the failed-authentication gate of the client address (429), before any credential is
///    looked at, so a locked-out address cannot go on guessing;
/// 5. authenticate (400 for two credentials, 401), which may ask to wait for keys;
/// 6. authorize (403);
/// 7. rate limit (429), last, so refused requests never spend the caller's budget.
///
/// Immutable and `Sendable`: one per configuration generation, shared by every loop; all
/// mutable state is the caller's (`AccessState` per connection, `AccessScratch` per loop).
package final class AccessPipeline: Sendable {
    /// The configuration generation: the memo and the rendered-identity cache are valid for one.
    package let generation: Int
    package let routes: RouteTable<CompiledRoute>
    let apiKeys: CompiledAPIKeys?
    let jwt: CompiledJWT?
    /// How client certificates become identities (`auth mtls`).
    let mtls: MTLSConfig
    /// Opaque bearer tokens' answers and queue (`introspection`).
    let introspector: Introspector?
    package let roles: RoleTable
    let defaultRateLimit: RateLimitPolicy?
    let authFailureLimit: RateLimitPolicy?
    let trustProxies: [CIDR]
    let maxTokenBytes: Int
    let limiters: AccessLimiters

    /// - Parameters:
    ///   - generation: the configuration generation (`SIGHUP` makes a new pipeline).
    ///   - limiters: the buckets, shared across generations (a reload keeps the counts).
    package init(loaded: LoadedConfig, generation: Int, limiters: AccessLimiters) {
        self.generation = generation
        routes = loaded.routes
        apiKeys = loaded.config.apiKeys.map(CompiledAPIKeys.init)
        jwt = loaded.jwt
        mtls = loaded.config.mtls
        introspector = loaded.introspector
        roles = loaded.roles
        defaultRateLimit = loaded.defaultRateLimit
        authFailureLimit = loaded.authFailureLimit
        trustProxies = loaded.config.trustProxies
        maxTokenBytes = loaded.config.limits.maxTokenBytes
        self.limiters = limiters
    }

    /// Decides `request` for the path the caller normalized into `scratch.path` (what the
    /// upstream receives). `state.rateLimitHeaders` holds the lines for the response afterwards.
    /// - Parameter trace: records each stage's outcome (`gateway explain`); nil when serving.
    package func decide(
        _ request: AccessRequest, state: inout AccessState, scratch: AccessScratch, clock: AccessClock,
        trace: AccessTrace? = nil
    ) -> AccessResult {
        state.beginRequest()
        // Routes are chosen by the request-line's method; an upstream honouring an override
        // would run another one.
        if request.overridesMethod { return AccessResult(verdict: .refuse(.methodOverride)) }
        let lookup = scratch.withRoutingPath {
            routes.lookup(path: $0, method: request.method, parameters: &scratch.routeParameters)
        }
        let route: CompiledRoute
        switch lookup {
        case .notFound: return AccessResult(verdict: .refuse(.routeNotFound))
        case .methodNotAllowed(let allow): return AccessResult(verdict: .refuse(.methodNotAllowed(allow: allow)))
        case .matched(let matched): route = matched
        }
        return decide(request, route: route, state: &state, scratch: scratch, clock: clock, trace: trace)
    }

    /// The stages after routing, for `route`: the failure gate, authentication, authorization
    /// and the rate limit. The admin listener enters here with its own fixed routes.
    func decide(
        _ request: AccessRequest, route: CompiledRoute, state: inout AccessState, scratch: AccessScratch, clock: AccessClock,
        trace: AccessTrace?
    ) -> AccessResult {
        trace?.record(.route(route))
        var result = AccessResult(verdict: .allow, route: route)
        if case .deny = route.action {
            result.verdict = .refuse(.routeDenied)
            return result
        }
        guard route.needsAuthentication else {
            result.verdict = rateLimit(route, result, request, &state, clock, trace)
            return result
        }
        if let retryAfter = lockedOut(request, &state, clock) {
            result.verdict = .refuse(.authFailuresExceeded(retryAfter: retryAfter))
            return result
        }

        switch authenticate(request, route: route, state: &state, scratch: scratch, clock: clock) {
        case .anonymous:
            trace?.record(.anonymous)
        case .authenticated(let identity, let renderKey):
            result.identity = identity
            result.rendered = scratch.rendered(renderKey, identity, roles: roles, generation: generation)
            trace?.record(.authenticated(identity))
        case .refused(let reason):
            if case .credentialInvalid = reason { countAuthFailure(request, &state, clock) }
            result.verdict = .refuse(reason)
            return result
        case .keysPending:
            result.verdict = .waitForKeys
            return result
        }

        let authorization = route.authorization.evaluate(result.identity, result.rendered?.resolved, parameter: scratch.routeParameter)
        trace?.record(.authorization(authorization))
        switch authorization {
        case .allowed: break
        case .unauthenticated: result.verdict = .refuse(.credentialMissing)
        case .insufficientScope(let scope): result.verdict = .refuse(.insufficientScope(scope))
        case .roleMissing: result.verdict = .refuse(.roleMissing)
        case .claimMismatch: result.verdict = .refuse(.claimMismatch)
        }
        guard result.verdict == .allow else { return result }
        result.verdict = rateLimit(route, result, request, &state, clock, trace)
        return result
    }

}

/// The clocks a decision reads, read once by the caller.
package struct AccessClock: Sendable {
    /// Monotonic milliseconds (rate limits).
    package var now: Int64
    /// Unix seconds (credential expiry, the memo).
    package var wallSecond: Int

    package init(now: Int64, wallSecond: Int) {
        self.now = now
        self.wallSecond = wallSecond
    }
}

/// The rate-limit buckets, kept across configuration generations. Any thread.
package final class AccessLimiters: Sendable {
    /// Requests per principal (SPEC §7).
    package let requests = RateLimiter()
    /// Failed authentications per client address (`auth_failure_limit`).
    package let authFailures = RateLimiter(maxBuckets: 1 << 16)

    package init() {}
}
