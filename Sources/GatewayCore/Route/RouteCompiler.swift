import GatewayHTTP
package import GatewayTLS

/// A route ready for the request path: every name resolved, every response pre-rendered.
package final class CompiledRoute: Sendable {
    /// The pattern as written, for logs and errors.
    package let pattern: String
    /// The route's position among the configuration's routes (metrics label slots are
    /// looked up by it); -1 for a route the gateway made itself (the admin API's).
    package let index: Int
    package let action: CompiledAction
    /// Bytes removed from the front of the normalized path before forwarding (`strip_prefix`).
    package let stripPrefix: [UInt8]?
    package let isPublic: Bool
    /// Which credentials the route accepts.
    package let auth: RouteAuthMode
    /// `forward_credentials on;`
    package let forwardCredentials: Bool
    /// `allow_query_token on;`: `?access_token=` is a credential (removed before forwarding).
    package let allowQueryToken: Bool
    /// The `aud` of the `X-Auth-Identity` token (the upstream's name); nil: no identity token.
    package let identityTokenAudience: String?
    /// `require`, `require_any`, `require_role`, `match_claim`.
    package let authorization: RouteAuthorization
    /// `rate_limit` (SPEC §7).
    package let rateLimit: CompiledRateLimit
    /// A credential is checked before acting: not public and not `deny`.
    package let needsAuthentication: Bool
    /// `, resource_metadata="URL"` for this route's 401 challenges (its own `resource`, else
    /// the top-level one; RFC 9728 §5.1); empty without either.
    package let resourceChallenge: [UInt8]

    package init(pattern: String, index: Int = -1, action: CompiledAction, stripPrefix: [UInt8]?, isPublic: Bool,
                 auth: RouteAuthMode = .required, forwardCredentials: Bool = false, allowQueryToken: Bool = false,
                 identityTokenAudience: String? = nil,
                 authorization: RouteAuthorization = RouteAuthorization(require: [], requireAny: [], requireRole: [], matchClaims: []),
                 rateLimit: CompiledRateLimit = .inherit, resourceChallenge: [UInt8] = []) {
        self.pattern = pattern
        self.index = index
        self.action = action
        self.stripPrefix = stripPrefix
        self.isPublic = isPublic
        self.auth = auth
        self.forwardCredentials = forwardCredentials
        self.allowQueryToken = allowQueryToken
        self.identityTokenAudience = identityTokenAudience
        self.authorization = authorization
        self.rateLimit = rateLimit
        self.resourceChallenge = resourceChallenge
        if case .deny = action { needsAuthentication = false } else { needsAuthentication = !isPublic }
    }
}

/// What a compiled route does.
package enum CompiledAction: Sendable {
    /// Forward to `GatewayConfig.upstreams[index]`.
    case upstream(index: Int)
    case respond(status: Int, body: [UInt8])
    case deny
}

/// A validated configuration plus its compiled route table: the unit `SIGHUP` swaps.
package struct LoadedConfig: Sendable {
    package let config: GatewayConfig
    package let routes: RouteTable<CompiledRoute>
    /// JWT verification, when `jwt` blocks (or `tokens`) are configured.
    package let jwt: CompiledJWT?
    /// The gateway's signing keys, when `tokens` is configured.
    package let tokens: TokenIssuer?
    /// `roles`, expanded.
    package let roles: RoleTable
    /// The top-level `rate_limit` (per principal), when configured.
    package let defaultRateLimit: RateLimitPolicy?
    /// `auth_failure_limit` (per client address); nil when `off`.
    package let authFailureLimit: RateLimitPolicy?
    /// The loaded certificates of each `listen` address (nil for plain HTTP), in order.
    package let listenTLS: [ServerTLS?]
    /// The admin listener's, when it is a TLS listener.
    package let adminTLS: ServerTLS?
    /// Each upstream's TLS client context (nil when its servers are plain HTTP), in order.
    package let upstreamTLS: [ClientTLS?]
    /// Token introspection's cache and queue, when `introspection` is configured.
    package let introspector: Introspector?

    /// Everything `check-config` and `serve` warn about: the file's own warnings, then the
    /// keys of `jwks_file` documents that were skipped.
    package var warnings: [ConfigDiagnostic] { config.warnings + (jwt?.warnings ?? []) + tlsWarnings }

    /// TLS files that load but need attention, at their `listen` line.
    private var tlsWarnings: [ConfigDiagnostic] {
        var listeners = Array(zip(config.listen, listenTLS))
        if let admin = config.adminListen { listeners.append((admin, adminTLS)) }
        return listeners.flatMap { address, tls in
            (tls?.warnings ?? []).map { ConfigDiagnostic(Self.location(of: address), "listen \(address): \($0)") }
        }
    }

    private static func location(of address: ListenAddress) -> SourceLocation {
        address.location ?? SourceLocation(file: "", line: 0, column: 0)
    }

    /// - Parameter reusing: the running configuration's `jwks_url` key sources, kept for the
    ///   URLs still configured (a reload must not forget the keys it has).
    /// - Parameter reusingIntrospector: the running configuration's, kept (with its cache) when
    ///   the `introspection` block did not change.
    package init(config: GatewayConfig, reusing: [JWKSKeySource] = [], reusingIntrospector: Introspector? = nil) throws(ConfigError) {
        self.config = config
        let introspector = config.introspection.map { settings in
            reusingIntrospector.flatMap { $0.config == settings ? $0 : nil } ?? Introspector(config: settings)
        }
        self.introspector = introspector
        var problems: [ConfigDiagnostic] = []
        var routes: RouteTable<CompiledRoute>? = nil
        var jwt: CompiledJWT? = nil
        var tokens: TokenIssuer? = nil
        do { routes = try RouteCompiler.compile(config) } catch { problems += error.diagnostics }
        if let tokensConfig = config.tokens {
            do { tokens = try TokenIssuer(tokensConfig) } catch { problems += error.diagnostics }
        }
        do { jwt = try JWTCompiler.compile(config, ownTokens: tokens, reusing: reusing) } catch { problems += error.diagnostics }
        let listenTLS = config.listen.map { Self.loadTLS($0, &problems) }
        let adminTLS = config.adminListen.flatMap { Self.loadTLS($0, &problems) }
        let upstreamTLS = config.upstreams.map { Self.loadTLS($0, &problems) }
        let introspectionTLS = config.introspection.flatMap { Self.loadTLS($0, &problems) }
        guard problems.isEmpty, let routes else { throw ConfigError(problems) }
        // Only now: a reused key source or introspector belongs to the running configuration
        // until this one is known to load.
        jwt?.installKeySourceTLS()
        introspector?.tls = introspectionTLS
        self.upstreamTLS = upstreamTLS
        self.listenTLS = listenTLS
        self.adminTLS = adminTLS
        self.routes = routes
        self.jwt = jwt
        self.tokens = tokens
        self.roles = RoleTable(config.roles)
        self.defaultRateLimit = config.rateLimit.map { RateLimitPolicy($0) }
        self.authFailureLimit = config.authFailureLimit.map { RateLimitPolicy($0, name: "auth-failures") }
    }

    /// Loads a TLS listener's certificates and keys (nil for a plain listener), reporting a
    /// file that does not load at the `listen` line.
    private static func loadTLS(_ address: ListenAddress, _ problems: inout [ConfigDiagnostic]) -> ServerTLS? {
        guard let settings = address.tls else { return nil }
        do {
            return try ServerTLS(settings: settings)
        } catch {
            problems.append(ConfigDiagnostic(location(of: address), "listen \(address): \(error.message)"))
            return nil
        }
    }

    /// The introspection endpoint's client context when the block names a `ca`.
    private static func loadTLS(_ introspection: IntrospectionConfig, _ problems: inout [ConfigDiagnostic]) -> ClientTLS? {
        introspection.caFile.flatMap {
            loadClientTLS(ClientTLSSettings(caFile: $0), for: "introspection", at: introspection.location, &problems)
        }
    }

    /// An HTTPS upstream's client context (its CA file, its client certificate).
    private static func loadTLS(_ upstream: UpstreamConfig, _ problems: inout [ConfigDiagnostic]) -> ClientTLS? {
        upstream.tls.flatMap { loadClientTLS($0.client, for: "upstream \(upstream.name)", at: upstream.location, &problems) }
    }

    /// A client context (CA file, client certificate), or nil with a problem reported at
    /// `location` when a file does not load.
    static func loadClientTLS(
        _ settings: ClientTLSSettings, for owner: String, at location: SourceLocation, _ problems: inout [ConfigDiagnostic]
    ) -> ClientTLS? {
        do {
            return try ClientTLS(settings: settings)
        } catch {
            problems.append(ConfigDiagnostic(location, "\(owner): \(error.message)"))
            return nil
        }
    }

    /// Loads, validates and compiles the file at `path`.
    /// - Throws: `ConfigError` with every problem (`file:line:col: message`).
    package static func load(
        path: String, environment: [String: String], reusing: [JWKSKeySource] = [], reusingIntrospector: Introspector? = nil
    ) throws(ConfigError) -> LoadedConfig {
        try LoadedConfig(
            config: ConfigLoader.load(path: path, environment: environment), reusing: reusing, reusingIntrospector: reusingIntrospector)
    }

    /// Same, from text (tests, the demo).
    package static func load(text: String, fileName: String, environment: [String: String]) throws(ConfigError) -> LoadedConfig {
        try LoadedConfig(config: ConfigLoader.load(text: text, fileName: fileName, environment: environment))
    }
}

/// The route's `rate_limit`, compiled.
private func compiledRateLimit(_ route: RouteConfig) -> CompiledRateLimit {
    switch route.rateLimit {
    case .inherit: .inherit
    case .off: .off
    case .rate(let rate): .route(RateLimitPolicy(rate, name: "route"), scope: CompiledRateLimit.scope(of: route.pattern))
    }
}

/// Compiles `route` blocks into a `RouteTable`, reporting bad patterns and equal-specificity
/// overlaps at the route's location (SPEC §3, §4).
package enum RouteCompiler {
    package static func compile(_ config: GatewayConfig) throws(ConfigError) -> RouteTable<CompiledRoute> {
        var problems: [ConfigDiagnostic] = []
        var entries: [RouteEntry<CompiledRoute>] = []
        var sources: [RouteConfig] = []
        for route in config.routes {
            let pattern: RoutePattern
            do {
                pattern = try RoutePattern(route.pattern)
            } catch {
                problems.append(ConfigDiagnostic(route.patternLocation, "invalid route pattern \"\(route.pattern)\": \(error.message)"))
                continue
            }
            let action: CompiledAction
            var identityTokenAudience: String? = nil
            switch route.action {
            case .upstream(let name):
                guard let index = config.upstreams.firstIndex(where: { $0.name == name }) else {
                    problems.append(ConfigDiagnostic(route.location, "unknown upstream \"\(name)\""))
                    continue
                }
                action = .upstream(index: index)
                if route.identityToken ?? config.identityToken, !route.isPublic { identityTokenAudience = name }
            case .respond(let status, let body):
                action = .respond(status: status, body: Array(body.utf8))
            case .deny:
                action = .deny
            }
            let compiled = CompiledRoute(
                pattern: route.pattern, index: entries.count, action: action,
                stripPrefix: route.stripPrefix.map { Array($0.utf8) }, isPublic: route.isPublic,
                auth: route.auth, forwardCredentials: route.forwardCredentials, allowQueryToken: route.allowQueryToken,
                identityTokenAudience: identityTokenAudience,
                authorization: RouteAuthorization(
                    require: route.require, requireAny: route.requireAny, requireRole: route.requireRole,
                    matchClaims: route.matchClaims),
                rateLimit: compiledRateLimit(route),
                resourceChallenge: (route.resource ?? config.resource).map(ProtectedResource.challengeParameter) ?? [])
            entries.append(RouteEntry(pattern: pattern, methods: route.methods, value: compiled))
            sources.append(route)
        }
        if problems.isEmpty {
            do {
                return try RouteTable(entries)
            } catch {
                let first = sources[error.first], second = sources[error.second]
                problems.append(ConfigDiagnostic(
                    second.location,
                    "route \"\(second.pattern)\" overlaps route \"\(first.pattern)\" at \(first.location) with equal specificity"))
            }
        }
        throw ConfigError(problems)
    }
}
