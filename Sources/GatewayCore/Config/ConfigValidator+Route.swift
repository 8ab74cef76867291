import GatewayHTTP

extension ConfigValidator {
    /// `route PATTERN { ... }`: exactly one action, known methods, a consistent `strip_prefix`.
    /// - Parameters:
    ///   - references: receives the `upstream NAME` argument, checked once every upstream is
    ///     known (even when the route has other problems).
    ///   - roleReferences: receives the `require_role` arguments, checked against `roles`.
    /// - Returns: the route, or nil after reporting.
    mutating func route(
        _ directive: ConfigDirective, references: inout [ConfigArgument], roleReferences: inout [ConfigArgument]
    ) -> RouteConfig? {
        let patternArgument = directive.arguments[0]
        let pattern = patternArgument.text
        var valid = true
        if !pattern.hasPrefix("/") {
            error(patternArgument.location, "route pattern \"\(pattern)\" must start with \"/\"")
            valid = false
        }

        var seen: [String: SourceLocation] = [:]
        var action: (value: RouteAction, directive: ConfigDirective)? = nil
        var sawAction = false
        var isPublic = false
        var methods: MethodSet? = nil
        var stripPrefix: ConfigArgument? = nil
        var auth: (mode: RouteAuthMode, directive: ConfigDirective)? = nil
        var forwardCredentials = false
        var allowQueryToken: ConfigDirective? = nil
        var identityToken: Bool? = nil
        var rules = AuthorizationRules()
        var rateLimit: RouteRateLimit = .inherit

        for child in directive.block ?? [] {
            switch child.name {
            case "upstream", "respond", "deny":
                sawAction = true
                if let existing = action?.directive {
                    if existing.name == child.name {
                        error(child.location, "duplicate \"\(child.name)\" (first at \(existing.location))")
                    } else {
                        error(
                            child.location,
                            "\"\(child.name)\" conflicts with \"\(existing.name)\" at \(existing.location); "
                                + "a route takes exactly one of \"upstream\", \"respond\" or \"deny\"")
                    }
                    valid = false
                    continue
                }
                guard let value = routeAction(child) else {
                    valid = false
                    continue
                }
                action = (value, child)
                if case .upstream = value { references.append(child.arguments[0]) }
            case "public":
                guard once(child, &seen), shape(child, arguments: 0...0) else {
                    valid = false
                    continue
                }
                isPublic = true
            case "methods":
                guard once(child, &seen), shape(child, arguments: 1...Int.max), let set = methodSet(child) else {
                    valid = false
                    continue
                }
                methods = set
            case "strip_prefix":
                guard once(child, &seen), shape(child, arguments: 1...1) else {
                    valid = false
                    continue
                }
                stripPrefix = child.arguments[0]
            case "auth":
                guard once(child, &seen), shape(child, arguments: 1...1) else {
                    valid = false
                    continue
                }
                switch child.arguments[0].text {
                case "api_key": auth = (.apiKeyOnly, child)
                case "jwt": auth = (.jwtOnly, child)
                case "optional": auth = (.optional, child)
                default:
                    error(child.arguments[0].location, "\"auth\" takes api_key, jwt or optional")
                    valid = false
                }
            case "forward_credentials":
                guard once(child, &seen), shape(child, arguments: 1...1), let flag = onOff(child.arguments[0]) else {
                    valid = false
                    continue
                }
                forwardCredentials = flag
            case "allow_query_token":
                guard once(child, &seen), shape(child, arguments: 1...1), let flag = onOff(child.arguments[0]) else {
                    valid = false
                    continue
                }
                allowQueryToken = flag ? child : nil
            case "identity_token":
                guard once(child, &seen), shape(child, arguments: 1...1), let flag = onOff(child.arguments[0]) else {
                    valid = false
                    continue
                }
                identityToken = flag
            case "require", "require_any", "require_role", "match_claim":
                guard authorizationRule(child, into: &rules, seen: &seen, roleReferences: &roleReferences) else {
                    valid = false
                    continue
                }
            case "rate_limit":
                guard once(child, &seen), let setting = self.rateLimit(child, allowOff: true) else {
                    valid = false
                    continue
                }
                rateLimit = setting
            default:
                reject(child, in: .route)
                valid = false
            }
        }

        guard let action else {
            if !sawAction {
                error(directive.location, "route \"\(pattern)\" needs an action: \"upstream\", \"respond\" or \"deny\"")
            }
            return nil
        }
        if isPublic, let auth {
            error(auth.directive.location, "\"auth\" contradicts \"public\" (a public route authenticates nobody)")
            valid = false
        }
        if isPublic, let first = rules.firstDirective {
            error(first.location, "\"\(first.name)\" contradicts \"public\" (a public route authenticates nobody)")
            valid = false
        }
        for (match, argument) in rules.claimParameters where !ConfigValidator.pattern(pattern, hasParameter: match.parameter) {
            error(argument.location, "match_claim: the route pattern \"\(pattern)\" has no parameter {\(match.parameter)}")
            valid = false
        }
        if isPublic, let allowQueryToken {
            error(allowQueryToken.location, "\"allow_query_token\" contradicts \"public\" (a public route reads no credential)")
            valid = false
        }
        if let stripPrefix {
            if case .upstream = action.value {
                if let message = ConfigValidator.stripPrefixProblem(stripPrefix.text, pattern: pattern) {
                    error(stripPrefix.location, message)
                    valid = false
                }
            } else {
                error(stripPrefix.location, "\"strip_prefix\" only applies to a route that forwards to an upstream")
                valid = false
            }
        }
        guard valid else { return nil }
        var route = RouteConfig(pattern: pattern, action: action.value, location: directive.location)
        route.methods = methods
        route.isPublic = isPublic
        route.stripPrefix = stripPrefix?.text
        route.auth = auth?.mode ?? .required
        route.forwardCredentials = forwardCredentials
        route.allowQueryToken = allowQueryToken != nil
        route.identityToken = identityToken
        route.require = rules.require
        route.requireAny = rules.requireAny
        route.requireRole = rules.requireRole
        route.matchClaims = rules.claimParameters.map(\.match)
        route.rateLimit = rateLimit
        route.patternLocation = patternArgument.location
        return route
    }

    /// `upstream NAME;`, `respond STATUS ["body"];` or `deny;`.
    private mutating func routeAction(_ directive: ConfigDirective) -> RouteAction? {
        switch directive.name {
        case "upstream":
            guard shape(directive, arguments: 1...1) else { return nil }
            return .upstream(directive.arguments[0].text)
        case "respond":
            guard shape(directive, arguments: 1...2) else { return nil }
            let status = directive.arguments[0]
            guard let code = try? ConfigValue.integer(status.text, in: 100...599) else {
                error(status.location, "invalid status \"\(status.text)\"; expected 100...599")
                return nil
            }
            return .respond(status: code, body: directive.arguments.count > 1 ? directive.arguments[1].text : "")
        default:
            guard shape(directive, arguments: 0...0) else { return nil }
            return .deny
        }
    }

    /// `methods M...;` — known, upper-case names, no repeats; `GET` brings `HEAD` along.
    private mutating func methodSet(_ directive: ConfigDirective) -> MethodSet? {
        var set: MethodSet = []
        var listed: [String: SourceLocation] = [:]
        var valid = true
        for argument in directive.arguments {
            guard let method = HTTPMethod(name: argument.text) else {
                let hint = HTTPMethod(name: argument.text.uppercased()) != nil ? " (method names are upper case)" : ""
                error(argument.location, "unknown method \"\(argument.text)\"\(hint)")
                valid = false
                continue
            }
            if let first = listed[argument.text] {
                error(argument.location, "duplicate method \"\(argument.text)\" (first at \(first))")
                valid = false
                continue
            }
            listed[argument.text] = argument.location
            set.insert(MethodSet(method))
            if method == .get { set.insert(MethodSet(.head)) }
        }
        return valid ? set : nil
    }

    /// Why `prefix` cannot be stripped from paths matching `pattern`; nil when it can. The
    /// prefix must be literal segments (`/api/v1`) that the pattern itself begins with, so
    /// every matching path really has it.
    static func stripPrefixProblem(_ prefix: String, pattern: String) -> String? {
        guard prefix.hasPrefix("/") else { return "strip_prefix \"\(prefix)\" must start with \"/\"" }
        guard !prefix.hasSuffix("/") else { return "strip_prefix \"\(prefix)\" must not end with \"/\"" }
        let segments = prefix.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for segment in segments {
            if segment.isEmpty || segment == "." || segment == ".." {
                return "strip_prefix \"\(prefix)\" has an empty, \".\" or \"..\" segment"
            }
            if segment.contains(where: { $0 == "{" || $0 == "}" || $0 == "*" }) {
                return "strip_prefix \"\(prefix)\" must be literal segments (no {name}, * or **)"
            }
        }
        let patternSegments = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard patternSegments.starts(with: segments) else {
            return "strip_prefix \"\(prefix)\" is not a prefix of the route pattern \"\(pattern)\""
        }
        return nil
    }
}
