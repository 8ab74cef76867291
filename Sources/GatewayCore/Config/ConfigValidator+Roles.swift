/// The authorization directives of a route while it is being validated.
struct AuthorizationRules {
    var require: [String] = []
    var requireAny: [String] = []
    var requireRole: [String] = []
    var claimParameters: [(match: ClaimMatch, argument: ConfigArgument)] = []
    /// The first authorization directive, for "contradicts public".
    var firstDirective: ConfigDirective? = nil
}

extension ConfigValidator {
    /// `roles { NAME PERMISSION|@ROLE ...; }`: role names are unique; `@` references are
    /// checked once the whole block is read (unknown roles and cycles are load errors).
    mutating func roles(_ block: [ConfigDirective]) -> [RoleConfig] {
        var result: [RoleConfig] = []
        var byName: [String: Int] = [:]
        var includeArguments: [[ConfigArgument]] = []
        for line in block {
            guard shape(line, arguments: 1...Int.max) else { continue }
            guard Self.isRoleName(line.name) else {
                error(line.location, "invalid role name \"\(line.name)\"; use letters, digits, \"_\", \"-\" and \".\"")
                continue
            }
            if let first = byName[line.name] {
                error(line.location, "duplicate role \"\(line.name)\" (first at \(result[first].location))")
                continue
            }
            var role = RoleConfig(name: line.name, permissions: [], includes: [], location: line.location)
            var includes: [ConfigArgument] = []
            for argument in line.arguments {
                if argument.text.hasPrefix("@") {
                    role.includes.append(String(argument.text.dropFirst()))
                    includes.append(argument)
                } else if permission(argument, wildcards: true) {
                    role.permissions.append(argument.text)
                }
            }
            byName[line.name] = result.count
            result.append(role)
            includeArguments.append(includes)
        }
        for (index, arguments) in includeArguments.enumerated() {
            for argument in arguments where byName[String(argument.text.dropFirst())] == nil {
                error(argument.location, "unknown role \"\(argument.text.dropFirst())\"")
            }
            // A cycle is reported once, at its first role in the file.
            if let cycle = Self.cycle(from: index, result, byName), cycle.min() == index {
                let chain = cycle.map { result[$0].name }.joined(separator: " -> ")
                error(result[index].location, "role \"\(result[index].name)\" includes itself: \(chain)")
            }
        }
        return result
    }

    /// `require`, `require_any`, `require_role`, `match_claim` inside a route.
    /// - Returns: false after reporting.
    mutating func authorizationRule(
        _ directive: ConfigDirective, into rules: inout AuthorizationRules, seen: inout [String: SourceLocation],
        roleReferences: inout [ConfigArgument]
    ) -> Bool {
        if rules.firstDirective == nil { rules.firstDirective = directive }
        switch directive.name {
        case "require", "require_any":
            guard once(directive, &seen), shape(directive, arguments: 1...Int.max) else { return false }
            var permissions: [String] = []
            for argument in directive.arguments {
                guard permission(argument, wildcards: false) else { return false }
                permissions.append(argument.text)
            }
            if directive.name == "require" { rules.require = permissions } else { rules.requireAny = permissions }
        case "require_role":
            guard once(directive, &seen), shape(directive, arguments: 1...Int.max) else { return false }
            rules.requireRole = directive.arguments.map(\.text)
            roleReferences += directive.arguments
        default:
            guard shape(directive, arguments: 2...2) else { return false }
            let (claimArgument, parameterArgument) = (directive.arguments[0], directive.arguments[1])
            guard let claim = IdentityClaim(rawValue: claimArgument.text) else {
                let names = IdentityClaim.allCases.map(\.rawValue).joined(separator: ", ")
                error(claimArgument.location, "match_claim: unknown claim \"\(claimArgument.text)\"; expected one of \(names)")
                return false
            }
            let text = parameterArgument.text
            guard text.count > 2, text.hasPrefix("{"), text.hasSuffix("}") else {
                error(parameterArgument.location, "match_claim: expected a path parameter like {org}, got \"\(text)\"")
                return false
            }
            rules.claimParameters.append((ClaimMatch(claim: claim, parameter: String(text.dropFirst().dropLast())), parameterArgument))
        }
        return true
    }

    /// `require_role` names must be defined in `roles` (SPEC §3).
    mutating func checkRoleReferences(_ config: GatewayConfig, _ references: [ConfigArgument]) {
        let known = Set(config.roles.map(\.name))
        for reference in references where !known.contains(reference.text) {
            error(reference.location, "unknown role \"\(reference.text)\"")
        }
    }

    /// A permission name: visible ASCII without `,`, `"` or `\`. With `wildcards`,
    /// `*` alone or a final `:*` is allowed; a required permission is always concrete.
    mutating func permission(_ argument: ConfigArgument, wildcards: Bool) -> Bool {
        let text = argument.text
        // RFC 6750 §3 scope-token characters (no `"` or `\`), and no `,` (the header separator).
        let allowed = { (byte: UInt8) in byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: ",") && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") }
        guard !text.isEmpty, text.utf8.allSatisfy(allowed) else {
            error(argument.location, "invalid permission \"\(text)\"; use visible ASCII without spaces, commas, quotes or backslashes")
            return false
        }
        let star = text.firstIndex(of: "*")
        let wildcardForm = text == "*" || (text.hasSuffix(":*") && star == text.index(before: text.endIndex))
        if star != nil && !(wildcards && wildcardForm) {
            let hint = wildcards ? "only \"*\" or a final \":*\" (area:*) is a wildcard" : "require needs concrete permissions, not wildcards"
            error(argument.location, "invalid permission \"\(text)\": \(hint)")
            return false
        }
        return true
    }

    static func isRoleName(_ text: String) -> Bool { isName(text) }

    /// The chain of includes from `start` back to itself, if any.
    private static func cycle(from start: Int, _ roles: [RoleConfig], _ byName: [String: Int]) -> [Int]? {
        var path: [Int] = []
        var visited: Set<Int> = []
        func visit(_ index: Int) -> Bool {
            path.append(index)
            for name in roles[index].includes {
                guard let next = byName[name] else { continue }
                if next == start { path.append(next); return true }
                if visited.insert(next).inserted, visit(next) { return true }
            }
            path.removeLast()
            return false
        }
        return visit(start) ? path : nil
    }

    /// Whether `pattern` captures `{name}`.
    static func pattern(_ pattern: String, hasParameter name: String) -> Bool {
        pattern.split(separator: "/").contains { $0 == "{\(name)}" }
    }
}
