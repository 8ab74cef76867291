import GatewayTLS
extension ConfigValidator {
    /// What the top-level directives leave behind for the checks that need all of them:
    /// which single-valued directives were seen, addresses and names already taken, and the
    /// references that can only be resolved once the whole file is read.
    struct MainBlockState {
        var seen: [String: SourceLocation] = [:]
        var listens: [String: SourceLocation] = [:]
        var adminArgument: ConfigArgument? = nil
        var upstreamNames: [String: SourceLocation] = [:]
        var apiKeysLocation: SourceLocation? = nil
        var identityTokenLocation: SourceLocation? = nil
        var references: [ConfigArgument] = []
        var roleReferences: [ConfigArgument] = []
        var registrationLocation: SourceLocation? = nil
    }

    /// Validates the top-level directives.
    /// - Returns: the configuration; meaningful only when `diagnostics` is empty.
    package mutating func validate(_ directives: [ConfigDirective]) -> GatewayConfig {
        var config = GatewayConfig()
        var state = MainBlockState()
        for directive in directives {
            mainDirective(directive, into: &config, &state)
        }
        crossCheck(&config, state)
        return config
    }

    /// One top-level directive.
    private mutating func mainDirective(_ directive: ConfigDirective, into config: inout GatewayConfig, _ state: inout MainBlockState) {
        switch directive.name {
        case "listen":
            listen(directive, into: &config, &state)
        case "admin_listen":
            guard once(directive, &state.seen), let address = listenAddress(directive) else { return }
            config.adminListen = address
            state.adminArgument = directive.arguments[0]
        case "workers":
            guard once(directive, &state.seen), shape(directive, arguments: 1...1) else { return }
            if let workers = workers(directive.arguments[0]) { config.workers = workers }
        case "trust_proxies":
            guard shape(directive, arguments: 1...Int.max) else { return }
            for argument in directive.arguments {
                if let cidr = parse(argument, ConfigValue.cidr) { config.trustProxies.append(cidr) }
            }
        case "limits":
            guard once(directive, &state.seen), shape(directive, arguments: 0...0, block: true) else { return }
            config.limits = limits(directive.block ?? [])
        case "upstream":
            guard shape(directive, arguments: 1...1, block: true) else { return }
            let name = directive.arguments[0]
            if let first = state.upstreamNames[name.text] {
                error(name.location, "duplicate upstream \"\(name.text)\" (first at \(first))")
                return
            }
            state.upstreamNames[name.text] = name.location
            if let upstream = upstream(directive) { config.upstreams.append(upstream) }
        case "route":
            guard shape(directive, arguments: 1...1, block: true) else { return }
            if let route = route(directive, references: &state.references, roleReferences: &state.roleReferences) {
                config.routes.append(route)
            }
        case "store":
            guard once(directive, &state.seen), shape(directive, arguments: 2...2) else { return }
            if let path = storePath(kind: directive.arguments[0], path: directive.arguments[1]) { config.storePath = path }
        case "jwt":
            guard shape(directive, arguments: 0...0, block: true), let block = jwtBlock(directive) else { return }
            if let first = config.jwt.first(where: { $0.issuer == block.issuer }) {
                error(directive.location, "duplicate jwt issuer \"\(block.issuer)\" (first at \(first.location))")
            } else {
                config.jwt.append(block)
            }
        case "api_keys":
            guard once(directive, &state.seen), shape(directive, arguments: 0...0, block: true) else { return }
            config.apiKeys = apiKeys(directive.block ?? [])
            state.apiKeysLocation = directive.location
        case "introspection":
            guard once(directive, &state.seen), shape(directive, arguments: 0...0, block: true) else { return }
            config.introspection = introspectionBlock(directive)
        case "tokens":
            guard once(directive, &state.seen), shape(directive, arguments: 0...0, block: true) else { return }
            config.tokens = tokensBlock(directive)
        case "roles":
            guard once(directive, &state.seen), shape(directive, arguments: 0...0, block: true) else { return }
            config.roles = roles(directive.block ?? [])
        case "identity_token":
            guard once(directive, &state.seen), shape(directive, arguments: 1...1), let flag = onOff(directive.arguments[0]) else { return }
            config.identityToken = flag
            state.identityTokenLocation = directive.location
        case "rate_limit":
            guard once(directive, &state.seen), let setting = rateLimit(directive, allowOff: false) else { return }
            if case .rate(let rate) = setting { config.rateLimit = rate }
        case "auth_failure_limit":
            guard once(directive, &state.seen), let setting = rateLimit(directive, allowOff: true) else { return }
            if case .rate(let rate) = setting { config.authFailureLimit = rate } else { config.authFailureLimit = nil }
        case "mtls":
            guard once(directive, &state.seen), shape(directive, arguments: 0...0, block: true) else { return }
            config.mtls = mtlsBlock(directive, roleReferences: &state.roleReferences)
        case "registration":
            guard once(directive, &state.seen), shape(directive, arguments: 0...0, block: true) else { return }
            config.registration = registration(directive, roleReferences: &state.roleReferences)
            state.registrationLocation = directive.location
        case "resource":
            guard once(directive, &state.seen), shape(directive, arguments: 1...1) else { return }
            config.resource = resourceURL(directive.arguments[0])
        case "decision_endpoint":
            guard once(directive, &state.seen), shape(directive, arguments: 1...1) else { return }
            let argument = directive.arguments[0]
            if argument.text == "off" {
                config.decisionEndpoint = nil
            } else if let path = parse(argument, ConfigValue.endpointPath) {
                config.decisionEndpoint = path
            }
        case "metrics":
            guard once(directive, &state.seen), shape(directive, arguments: 1...1), let flag = onOff(directive.arguments[0]) else { return }
            config.metrics = flag
        case "access_log":
            guard once(directive, &state.seen), shape(directive, arguments: 1...1) else { return }
            if let target = accessLogTarget(directive.arguments[0]) { config.accessLog = target }
        default:
            reject(directive, in: .main)
        }
    }

    /// `listen ADDR;` — repeatable, but never the same address twice (port 0 excepted: each
    /// one asks the kernel for a fresh port).
    private mutating func listen(_ directive: ConfigDirective, into config: inout GatewayConfig, _ state: inout MainBlockState) {
        guard let address = listenAddress(directive) else { return }
        if address.port != 0 {
            if let first = state.listens[address.description] {
                error(directive.arguments[0].location, "duplicate listen address \(address) (first at \(first))")
                return
            }
            state.listens[address.description] = directive.arguments[0].location
        }
        config.listen.append(address)
    }

    /// `workers auto|N;`
    private mutating func workers(_ argument: ConfigArgument) -> WorkerCount? {
        if argument.text == "auto" { return .auto }
        let count = parse(argument) { text throws(ConfigValueError) in
            guard ConfigValue.decimal(Substring(text)) != nil else {
                throw ConfigValueError("invalid workers \"\(text)\"; expected auto or a number 1...256")
            }
            return try ConfigValue.integer(text, in: 1...256)
        }
        return count.map { .count($0) }
    }

    /// `store sqlite PATH;`
    private mutating func storePath(kind: ConfigArgument, path: ConfigArgument) -> String? {
        guard kind.text == "sqlite" else {
            error(kind.location, "unsupported store \"\(kind.text)\"; expected \"sqlite\"")
            return nil
        }
        guard !path.text.isEmpty else {
            error(path.location, "\"store\" needs a file path")
            return nil
        }
        return path.text
    }

    /// `access_log off|stdout|PATH;`
    private mutating func accessLogTarget(_ target: ConfigArgument) -> AccessLogTarget? {
        switch target.text {
        case "off": return .off
        case "stdout": return .stdout
        case "", "file:":
            error(target.location, "\"access_log\" needs off, stdout or file:PATH")
            return nil
        default:
            // `file:PATH` as SPEC §15 writes it; a bare path is accepted as the same thing.
            return .file(target.text.hasPrefix("file:") ? String(target.text.dropFirst(5)) : target.text)
        }
    }

    /// The checks that need the whole file: credentials every protected route can be checked
    /// with, references to upstreams and roles, addresses shared by listeners.
    private mutating func crossCheck(_ config: inout GatewayConfig, _ state: MainBlockState) {
        if config.apiKeys != nil, config.storePath == nil, let location = state.apiKeysLocation {
            error(location, "\"api_keys\" needs a key store: add `store sqlite PATH;`")
        }
        checkRouteCredentials(config)
        checkTokens(config, identityTokenLocation: state.identityTokenLocation, tokensSeen: state.seen["tokens"] != nil)
        checkRoleReferences(config, state.roleReferences)
        checkResources(config)
        if let location = state.registrationLocation, config.storePath == nil || config.apiKeys == nil {
            error(location, "\"registration\" creates API keys: it needs `store sqlite PATH;` and `api_keys { }`")
        }
        for reference in state.references where state.upstreamNames[reference.text] == nil {
            error(reference.location, "unknown upstream \"\(reference.text)\"")
        }
        if let admin = config.adminListen, let argument = state.adminArgument, admin.port != 0,
           let first = state.listens[admin.description] {
            error(argument.location, "admin_listen \(admin) is also a listen address (at \(first))")
        }
        if config.listen.isEmpty {
            config.listen = [ListenAddress(host: "127.0.0.1", port: 8080)]
        }
    }

    /// Fail closed: a route that needs a credential loads only when a method can check one.
    /// The gateway's own tokens (`tokens`) are JWTs it verifies.
    private mutating func checkRouteCredentials(_ config: GatewayConfig) {
        let acceptsJWT = !config.jwt.isEmpty || config.tokens != nil
        let introspects = config.introspection != nil
        for route in config.routes where !route.isPublic && route.action != .deny {
            switch route.auth {
            case .jwtOnly:
                if !acceptsJWT { error(route.location, "route accepts only JWTs, but no `jwt` (or `tokens`) block is configured") }
            case .apiKeyOnly:
                if config.apiKeys == nil { error(route.location, "route accepts only API keys, but `api_keys` is not configured") }
            case .required, .optional:
                if config.apiKeys == nil && !acceptsJWT && !introspects {
                    error(route.location, "route requires authentication: configure `jwt`, `api_keys` or `introspection`, or add `public;`")
                }
            case .introspection:
                if !introspects { error(route.location, "route accepts only introspected tokens, but `introspection` is not configured") }
            case .mtls:
                let verifies = config.listen.contains { ($0.tls?.clientCertificates ?? .off) != .off }
                if !verifies {
                    error(route.location, "route accepts only client certificates (auth mtls), but no tls listener has client_certificate optional or required")
                }
            }
        }
    }
}
