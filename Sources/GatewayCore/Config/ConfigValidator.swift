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
        case main, limits, upstream, route, apiKeys, jwt, tokens, registration

        var phrase: String {
            switch self {
            case .main: "at top level"
            case .limits: "inside \"limits\""
            case .upstream: "inside \"upstream\""
            case .route: "inside \"route\""
            case .apiKeys: "inside \"api_keys\""
            case .jwt: "inside \"jwt\""
            case .tokens: "inside \"tokens\""
            case .registration: "inside \"registration\""
            }
        }

        /// Directives implemented now.
        var supported: Set<String> {
            switch self {
            case .main:
                ["listen", "admin_listen", "workers", "trust_proxies", "limits", "upstream", "route", "store", "access_log",
                 "api_keys", "jwt", "tokens", "identity_token", "roles", "rate_limit", "auth_failure_limit",
                 "decision_endpoint", "resource", "registration", "mtls", "introspection"]
            case .limits:
                ["max_head", "max_headers", "max_body", "max_token", "head_timeout", "idle_timeout", "max_connections",
                 "drain_timeout", "send_timeout", "body_timeout", "tunnel_idle_timeout"]
            case .upstream:
                ["server", "keepalive", "connect_timeout", "read_timeout", "send_timeout", "tunnel_idle_timeout",
                 "tls", "ca", "tls_verify", "tls_server_name", "tls_certificate", "tls_key"]
            case .route:
                ["methods", "upstream", "public", "respond", "deny", "strip_prefix", "auth", "forward_credentials",
                 "allow_query_token", "identity_token", "require", "require_any", "require_role", "match_claim",
                 "rate_limit", "resource"]
            case .apiKeys:
                ["header", "bearer", "prefix", "legacy_prefix"]
            case .jwt:
                ["issuer", "audience", "key", "jwks_file", "jwks_url", "discovery", "ca", "leeway", "require", "require_typ", "claims", "cache"]
            case .tokens:
                ["signing_key", "issuer", "audience", "access_ttl", "refresh_ttl", "refresh_family_ttl"]
            case .registration:
                ["require_token", "roles", "permissions"]
            }
        }

        /// Directives of the SPEC that a later release implements: a clear error until then.
        var notYetSupported: Set<String> {
            switch self {
            case .main:
                ["rate_limit_store"]
            case .limits, .upstream, .apiKeys, .tokens, .jwt, .registration:
                []
            case .route:
                ["require_typ"]
            }
        }
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

    mutating func warning(_ location: SourceLocation, _ message: String) {
        warnings.append(ConfigDiagnostic(location, message))
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
