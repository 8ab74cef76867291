/// Turns the untyped directive tree into a `GatewayConfig`, collecting every problem rather
/// than stopping at the first (STYLE §7), each at the position of the offending token.
///
/// Strict: an unknown directive, one in the wrong block, a duplicate of a single-valued
/// directive, a wrong argument count, a block where none belongs (or none where one does),
/// and a directive a later release will implement are all errors — never ignored, since a
/// silently dropped line in a security gateway is an unenforced policy.
package struct ConfigValidator {
    /// The variables `env:` secrets read.
    package let environment: [String: String]
    /// Errors found; the config is unusable unless this is empty.
    package private(set) var diagnostics: [ConfigDiagnostic] = []
    /// Non-fatal findings (literal secrets).
    package private(set) var warnings: [ConfigDiagnostic] = []

    package init(environment: [String: String]) {
        self.environment = environment
    }

    /// The blocks directives can stand in; used to say where a misplaced directive belongs.
    enum Context: CaseIterable {
        case main, limits, upstream, route, apiKeys, jwt, tokens

        var phrase: String {
            switch self {
            case .main: "at top level"
            case .limits: "inside \"limits\""
            case .upstream: "inside \"upstream\""
            case .route: "inside \"route\""
            case .apiKeys: "inside \"api_keys\""
            case .jwt: "inside \"jwt\""
            case .tokens: "inside \"tokens\""
            }
        }

        /// Directives implemented now.
        var supported: Set<String> {
            switch self {
            case .main:
                ["listen", "admin_listen", "workers", "trust_proxies", "limits", "upstream", "route", "store", "access_log",
                 "api_keys", "jwt", "tokens", "identity_token", "roles", "rate_limit", "auth_failure_limit",
                 "decision_endpoint"]
            case .limits:
                ["max_head", "max_headers", "max_body", "max_token", "head_timeout", "idle_timeout", "max_connections",
                 "drain_timeout", "send_timeout", "tunnel_idle_timeout"]
            case .upstream:
                ["server", "keepalive", "connect_timeout", "read_timeout", "send_timeout", "tunnel_idle_timeout"]
            case .route:
                ["methods", "upstream", "public", "respond", "deny", "strip_prefix", "auth", "forward_credentials",
                 "allow_query_token", "identity_token", "require", "require_any", "require_role", "match_claim",
                 "rate_limit"]
            case .apiKeys:
                ["header", "bearer", "prefix", "legacy_prefix"]
            case .jwt:
                ["issuer", "audience", "key", "jwks_file", "jwks_url", "leeway", "require", "require_typ", "claims", "cache"]
            case .tokens:
                ["signing_key", "issuer", "audience", "access_ttl", "refresh_ttl"]
            }
        }

        /// Directives of the SPEC that a later release implements: a clear error until then.
        var notYetSupported: Set<String> {
            switch self {
            case .main:
                ["introspection", "registration", "resource", "rate_limit_store"]
            case .limits, .upstream, .apiKeys, .tokens, .jwt:
                []
            case .route:
                ["require_typ"]
            }
        }
    }

    /// Validates the top-level directives.
    /// - Returns: the configuration; meaningful only when `diagnostics` is empty.
    package mutating func validate(_ directives: [ConfigDirective]) -> GatewayConfig {
        var config = GatewayConfig()
        var seen: [String: SourceLocation] = [:]
        var listens: [String: SourceLocation] = [:]
        var adminArgument: ConfigArgument? = nil
        var upstreamNames: [String: SourceLocation] = [:]
        var apiKeysLocation: SourceLocation? = nil
        var identityTokenLocation: SourceLocation? = nil
        var references: [ConfigArgument] = []
        var roleReferences: [ConfigArgument] = []

        for directive in directives {
            switch directive.name {
            case "listen":
                guard let address = listenAddress(directive) else { continue }
                let argument = directive.arguments[0]
                if address.port != 0 {
                    if let first = listens[address.description] {
                        error(argument.location, "duplicate listen address \(address) (first at \(first))")
                        continue
                    }
                    listens[address.description] = argument.location
                }
                config.listen.append(address)
            case "admin_listen":
                guard once(directive, &seen), let address = listenAddress(directive) else { continue }
                config.adminListen = address
                adminArgument = directive.arguments[0]
            case "workers":
                guard once(directive, &seen), shape(directive, arguments: 1...1) else { continue }
                let argument = directive.arguments[0]
                if argument.text == "auto" {
                    config.workers = .auto
                } else if let count = parse(argument, { text throws(ConfigValueError) in
                    guard ConfigValue.decimal(Substring(text)) != nil else {
                        throw ConfigValueError("invalid workers \"\(text)\"; expected auto or a number 1...256")
                    }
                    return try ConfigValue.integer(text, in: 1...256)
                }) {
                    config.workers = .count(count)
                }
            case "trust_proxies":
                guard shape(directive, arguments: 1...Int.max) else { continue }
                for argument in directive.arguments {
                    if let cidr = parse(argument, ConfigValue.cidr) { config.trustProxies.append(cidr) }
                }
            case "limits":
                guard once(directive, &seen), shape(directive, arguments: 0...0, block: true) else { continue }
                config.limits = limits(directive.block ?? [])
            case "upstream":
                guard shape(directive, arguments: 1...1, block: true) else { continue }
                let name = directive.arguments[0]
                if let first = upstreamNames[name.text] {
                    error(name.location, "duplicate upstream \"\(name.text)\" (first at \(first))")
                    continue
                }
                upstreamNames[name.text] = name.location
                if let upstream = upstream(directive) { config.upstreams.append(upstream) }
            case "route":
                guard shape(directive, arguments: 1...1, block: true) else { continue }
                if let route = route(directive, references: &references, roleReferences: &roleReferences) {
                    config.routes.append(route)
                }
            case "store":
                guard once(directive, &seen), shape(directive, arguments: 2...2) else { continue }
                let kind = directive.arguments[0]
                let path = directive.arguments[1]
                guard kind.text == "sqlite" else {
                    error(kind.location, "unsupported store \"\(kind.text)\"; expected \"sqlite\"")
                    continue
                }
                guard !path.text.isEmpty else {
                    error(path.location, "\"store\" needs a file path")
                    continue
                }
                config.storePath = path.text
            case "jwt":
                guard shape(directive, arguments: 0...0, block: true) else { continue }
                if let block = jwtBlock(directive) {
                    if let first = config.jwt.first(where: { $0.issuer == block.issuer }) {
                        error(directive.location, "duplicate jwt issuer \"\(block.issuer)\" (first at \(first.location))")
                    } else {
                        config.jwt.append(block)
                    }
                }
            case "api_keys":
                guard once(directive, &seen), shape(directive, arguments: 0...0, block: true) else { continue }
                config.apiKeys = apiKeys(directive.block ?? [])
                apiKeysLocation = directive.location
            case "tokens":
                guard once(directive, &seen), shape(directive, arguments: 0...0, block: true) else { continue }
                config.tokens = tokensBlock(directive)
            case "roles":
                guard once(directive, &seen), shape(directive, arguments: 0...0, block: true) else { continue }
                config.roles = roles(directive.block ?? [])
            case "identity_token":
                guard once(directive, &seen), shape(directive, arguments: 1...1), let flag = onOff(directive.arguments[0]) else { continue }
                config.identityToken = flag
                identityTokenLocation = directive.location
            case "rate_limit":
                guard once(directive, &seen), let setting = rateLimit(directive, allowOff: false) else { continue }
                if case .rate(let rate) = setting { config.rateLimit = rate }
            case "auth_failure_limit":
                guard once(directive, &seen), let setting = rateLimit(directive, allowOff: true) else { continue }
                if case .rate(let rate) = setting { config.authFailureLimit = rate } else { config.authFailureLimit = nil }
            case "decision_endpoint":
                guard once(directive, &seen), shape(directive, arguments: 1...1) else { continue }
                let argument = directive.arguments[0]
                if argument.text == "off" {
                    config.decisionEndpoint = nil
                } else if let path = parse(argument, ConfigValue.endpointPath) {
                    config.decisionEndpoint = path
                }
            case "access_log":
                guard once(directive, &seen), shape(directive, arguments: 1...1) else { continue }
                let target = directive.arguments[0]
                switch target.text {
                case "off": config.accessLog = .off
                case "stdout": config.accessLog = .stdout
                case "": error(target.location, "\"access_log\" needs off, stdout or a file path")
                default: config.accessLog = .file(target.text)
                }
            default:
                reject(directive, in: .main)
            }
        }

        if config.apiKeys != nil, config.storePath == nil, let apiKeysLocation {
            error(apiKeysLocation, "\"api_keys\" needs a key store: add `store sqlite PATH;`")
        }
        // Fail closed: a route that needs a credential loads only when a method can check one.
        // The gateway's own tokens (`tokens`) are JWTs it verifies.
        let acceptsJWT = !config.jwt.isEmpty || config.tokens != nil
        for route in config.routes where !route.isPublic && route.action != .deny {
            switch route.auth {
            case .jwtOnly:
                if !acceptsJWT { error(route.location, "route accepts only JWTs, but no `jwt` (or `tokens`) block is configured") }
            case .apiKeyOnly:
                if config.apiKeys == nil { error(route.location, "route accepts only API keys, but `api_keys` is not configured") }
            case .required, .optional:
                if config.apiKeys == nil && !acceptsJWT {
                    error(route.location, "route requires authentication: configure `jwt` or `api_keys`, or add `public;`")
                }
            }
        }
        checkTokens(config, identityTokenLocation: identityTokenLocation, tokensSeen: seen["tokens"] != nil)
        checkRoleReferences(config, roleReferences)
        for reference in references where upstreamNames[reference.text] == nil {
            error(reference.location, "unknown upstream \"\(reference.text)\"")
        }
        if let admin = config.adminListen, let adminArgument, admin.port != 0, let first = listens[admin.description] {
            error(adminArgument.location, "admin_listen \(admin) is also a listen address (at \(first))")
        }
        if config.listen.isEmpty {
            config.listen = [ListenAddress(host: "127.0.0.1", port: 8080)]
        }
        return config
    }

    /// Resolves a secret argument (`env:NAME`, `file:PATH`, or a literal, which draws a
    /// warning). For the auth sections of later releases.
    /// - Returns: the secret's bytes, or nil after recording an error.
    package mutating func secret(_ argument: ConfigArgument) -> [UInt8]? {
        do {
            let source = try SecretSource(configText: argument.text)
            let bytes = try source.resolve(
                environment: environment, relativeTo: ConfigFiles.directory(of: argument.location.file))
            if source.isLiteral { warnings.append(ConfigDiagnostic(argument.location, SecretSource.literalWarning)) }
            return bytes
        } catch {
            self.error(argument.location, error.message)
            return nil
        }
    }

    // MARK: - Shared checks

    mutating func error(_ location: SourceLocation, _ message: String) {
        diagnostics.append(ConfigDiagnostic(location, message))
    }

    /// `listen`/`admin_listen ADDR;` — a trailing `tls ...` is recognized and refused.
    private mutating func listenAddress(_ directive: ConfigDirective) -> ListenAddress? {
        if let tls = directive.arguments.dropFirst().first(where: { $0.text == "tls" }) {
            error(tls.location, "tls is not supported yet")
            return nil
        }
        guard shape(directive, arguments: 1...1) else { return nil }
        return parse(directive.arguments[0], ConfigValue.listenAddress)
    }

    /// Records the first occurrence of a single-valued directive; reports any later one.
    /// - Returns: false for a duplicate (the caller skips it).
    mutating func once(_ directive: ConfigDirective, _ seen: inout [String: SourceLocation]) -> Bool {
        if let first = seen[directive.name] {
            error(directive.location, "duplicate \"\(directive.name)\" (first at \(first))")
            return false
        }
        seen[directive.name] = directive.location
        return true
    }

    /// Checks the argument count and whether a block is present.
    /// - Returns: false after reporting when the directive cannot be interpreted.
    mutating func shape(_ directive: ConfigDirective, arguments range: ClosedRange<Int>, block: Bool = false) -> Bool {
        var valid = true
        if block, directive.block == nil {
            error(directive.location, "\"\(directive.name)\" needs a block { ... }")
            valid = false
        } else if !block, let brace = directive.blockLocation {
            error(brace, "\"\(directive.name)\" does not take a block")
            valid = false
        }
        let expected: String
        switch (range.lowerBound, range.upperBound) {
        case (0, 0): expected = "no arguments"
        case (let low, Int.max): expected = "at least \(low) argument\(low == 1 ? "" : "s")"
        case (let low, let high) where low == high: expected = "\(low) argument\(low == 1 ? "" : "s")"
        case (let low, let high): expected = "\(low) to \(high) arguments"
        }
        if directive.arguments.count < range.lowerBound {
            error(directive.location, "missing argument for \"\(directive.name)\" (expected \(expected))")
            valid = false
        } else if directive.arguments.count > range.upperBound {
            error(
                directive.arguments[range.upperBound].location,
                "too many arguments for \"\(directive.name)\" (expected \(expected))")
            valid = false
        }
        return valid
    }

    /// Runs a value parser on an argument, reporting its error at the argument.
    mutating func parse<T>(_ argument: ConfigArgument, _ parser: (String) throws(ConfigValueError) -> T) -> T? {
        do {
            return try parser(argument.text)
        } catch {
            self.error(argument.location, error.message)
            return nil
        }
    }

    /// A directive not valid in `context`: not supported yet, misplaced, or unknown.
    mutating func reject(_ directive: ConfigDirective, in context: Context) {
        let name = directive.name
        if context.notYetSupported.contains(name) {
            error(directive.location, "\"\(name)\" is not supported yet")
        } else if let home = Context.allCases.first(where: { $0.supported.contains(name) || $0.notYetSupported.contains(name) }) {
            error(directive.location, "\"\(name)\" is not allowed \(context.phrase); it belongs \(home.phrase)")
        } else {
            error(directive.location, "unknown directive \"\(name)\"")
        }
    }
}
