import GatewayHTTP

extension ConfigValidator {
    /// A route's directives as read, before the checks between them.
    struct RouteDraft {
        var valid = true
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
        var resource: (url: String, directive: ConfigDirective)? = nil
    }

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
        var draft = RouteDraft()
        if !pattern.hasPrefix("/") {
            error(patternArgument.location, "route pattern \"\(pattern)\" must start with \"/\"")
            draft.valid = false
        }
        for child in directive.block ?? [] {
            routeChild(child, into: &draft, references: &references, roleReferences: &roleReferences)
        }
        guard let action = draft.action else {
            if !draft.sawAction {
                error(directive.location, "route \"\(pattern)\" needs an action: \"upstream\", \"respond\" or \"deny\"")
            }
            return nil
        }
        checkConsistency(of: &draft, pattern: pattern, action: action.value)
        guard draft.valid else { return nil }
        var route = RouteConfig(pattern: pattern, action: action.value, location: directive.location)
        route.methods = draft.methods
        route.isPublic = draft.isPublic
        route.stripPrefix = draft.stripPrefix?.text
        route.auth = draft.auth?.mode ?? .required
        route.forwardCredentials = draft.forwardCredentials
        route.allowQueryToken = draft.allowQueryToken != nil
        route.identityToken = draft.identityToken
        route.require = draft.rules.require
        route.requireAny = draft.rules.requireAny
        route.requireRole = draft.rules.requireRole
        route.matchClaims = draft.rules.claimParameters.map(\.match)
        route.rateLimit = draft.rateLimit
        route.resource = draft.resource?.url
        route.patternLocation = patternArgument.location
        return route
    }

    /// One directive inside a route block; a problem is reported and marks the draft invalid.
    private mutating func routeChild(
        _ child: ConfigDirective, into draft: inout RouteDraft,
        references: inout [ConfigArgument], roleReferences: inout [ConfigArgument]
    ) {
        switch child.name {
        case "upstream", "respond", "deny":
            draft.sawAction = true
            if let existing = draft.action?.directive {
                if existing.name == child.name {
                    error(child.location, "duplicate \"\(child.name)\" (first at \(existing.location))")
                } else {
                    error(
                        child.location,
                        "\"\(child.name)\" conflicts with \"\(existing.name)\" at \(existing.location); "
                            + "a route takes exactly one of \"upstream\", \"respond\" or \"deny\"")
                }
                draft.valid = false
            } else if let value = routeAction(child) {
                draft.action = (value, child)
                if case .upstream = value { references.append(child.arguments[0]) }
            } else {
                draft.valid = false
            }
        case "public":
            guard once(child, &draft.seen), shape(child, arguments: 0...0) else { draft.valid = false; return }
            draft.isPublic = true
        case "methods":
            guard once(child, &draft.seen), shape(child, arguments: 1...Int.max), let set = methodSet(child) else {
                draft.valid = false; return
            }
            draft.methods = set
        case "strip_prefix":
            guard once(child, &draft.seen), shape(child, arguments: 1...1) else { draft.valid = false; return }
            draft.stripPrefix = child.arguments[0]
        case "auth":
            guard once(child, &draft.seen), shape(child, arguments: 1...1) else { draft.valid = false; return }
            switch child.arguments[0].text {
            case "api_key": draft.auth = (.apiKeyOnly, child)
            case "jwt": draft.auth = (.jwtOnly, child)
            case "optional": draft.auth = (.optional, child)
            case "mtls": draft.auth = (.mtls, child)
            case "introspection": draft.auth = (.introspection, child)
            default:
                error(child.arguments[0].location, "\"auth\" takes api_key, jwt, introspection, mtls or optional")
                draft.valid = false
            }
        case "forward_credentials", "allow_query_token", "identity_token":
            guard once(child, &draft.seen), shape(child, arguments: 1...1), let flag = onOff(child.arguments[0]) else {
                draft.valid = false; return
            }
            switch child.name {
            case "forward_credentials": draft.forwardCredentials = flag
            case "allow_query_token": draft.allowQueryToken = flag ? child : nil
            default: draft.identityToken = flag
            }
        case "require", "require_any", "require_role", "match_claim":
            if !authorizationRule(child, into: &draft.rules, seen: &draft.seen, roleReferences: &roleReferences) {
                draft.valid = false
            }
        case "resource":
            guard once(child, &draft.seen), shape(child, arguments: 1...1), let url = resourceURL(child.arguments[0]) else {
                draft.valid = false; return
            }
            draft.resource = (url, child)
        case "rate_limit":
            guard once(child, &draft.seen), let setting = rateLimit(child, allowOff: true) else { draft.valid = false; return }
            draft.rateLimit = setting
        default:
            reject(child, in: .route)
            draft.valid = false
        }
    }

    /// The checks between a route's directives: `public` excludes every credential setting,
    /// `match_claim` names a parameter of the pattern, `strip_prefix` fits the pattern and
    /// only applies to forwarding.
    private mutating func checkConsistency(of draft: inout RouteDraft, pattern: String, action: RouteAction) {
        if draft.isPublic, let auth = draft.auth {
            error(auth.directive.location, "\"auth\" contradicts \"public\" (a public route authenticates nobody)")
            draft.valid = false
        }
        if draft.isPublic, let first = draft.rules.firstDirective {
            error(first.location, "\"\(first.name)\" contradicts \"public\" (a public route authenticates nobody)")
            draft.valid = false
        }
        for (match, argument) in draft.rules.claimParameters
        where !ConfigValidator.pattern(pattern, hasParameter: match.parameter) {
            error(argument.location, "match_claim: the route pattern \"\(pattern)\" has no parameter {\(match.parameter)}")
            draft.valid = false
        }
        if draft.isPublic, let resource = draft.resource {
            error(resource.directive.location, "\"resource\" contradicts \"public\" (a public route answers no 401 to point from)")
            draft.valid = false
        }
        if draft.isPublic, let allowQueryToken = draft.allowQueryToken {
            error(allowQueryToken.location, "\"allow_query_token\" contradicts \"public\" (a public route reads no credential)")
            draft.valid = false
        }
        guard let stripPrefix = draft.stripPrefix else { return }
        guard case .upstream = action else {
            error(stripPrefix.location, "\"strip_prefix\" only applies to a route that forwards to an upstream")
            draft.valid = false; return
        }
        if let message = ConfigValidator.stripPrefixProblem(stripPrefix.text, pattern: pattern) {
            error(stripPrefix.location, message)
            draft.valid = false
        }
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
