import GatewayCrypto

extension ConfigValidator {
    /// `tokens { signing_key ...; issuer ...; audience ...; access_ttl ...; refresh_ttl ...; refresh_family_ttl ...; }`
    /// (SPEC §10). Key strength is checked when the keys are built (`TokenIssuer`).
    /// - Returns: nil after reporting a problem that makes the block unusable.
    mutating func tokensBlock(_ directive: ConfigDirective) -> TokensConfig? {
        var seen: [String: SourceLocation] = [:]
        var result = TokensConfig(issuer: "", location: directive.location)
        var valid = true
        var sawSigningKey = false
        for child in directive.block ?? [] {
            switch child.name {
            case "signing_key":
                sawSigningKey = true
                guard let key = keyLine(child, existing: result.signingKeys) else { valid = false; continue }
                result.signingKeys.append(key)
            case "issuer", "audience":
                valid = issuerOrAudience(child, &seen, issuer: &result.issuer, audiences: &result.audiences) && valid
            case "access_ttl", "refresh_ttl", "refresh_family_ttl":
                guard once(child, &seen), shape(child, arguments: 1...1), let ttl = positiveDuration(child.arguments[0]) else {
                    valid = false
                    continue
                }
                switch child.name {
                case "access_ttl": result.accessTTL = ttl
                case "refresh_ttl": result.refreshTTL = ttl
                default: result.refreshFamilyTTL = ttl
                }
            default:
                reject(child, in: .tokens)
                valid = false
            }
        }
        valid = required(!result.issuer.isEmpty, in: directive, "an \"issuer\"") && valid
        valid = required(!result.audiences.isEmpty, in: directive, "an \"audience\"") && valid
        valid = required(sawSigningKey, in: directive, "a \"signing_key\"") && valid
        return valid ? result : nil
    }

    /// `issuer URL;` or `audience A...;` (both once), shared by `jwt` and `tokens`.
    /// - Returns: false after reporting.
    mutating func issuerOrAudience(
        _ directive: ConfigDirective, _ seen: inout [String: SourceLocation], issuer: inout String, audiences: inout [String]
    ) -> Bool {
        let isIssuer = directive.name == "issuer"
        guard once(directive, &seen), shape(directive, arguments: isIssuer ? 1...1 : 1...Int.max) else { return false }
        if isIssuer { issuer = directive.arguments[0].text } else { audiences = directive.arguments.map(\.text) }
        return true
    }

    /// Cross-checks: identity tokens need signing keys, and the gateway's own issuer cannot
    /// also be a `jwt` block (its tokens are trusted implicitly, with `typ at+jwt` required).
    mutating func checkTokens(_ config: GatewayConfig, identityTokenLocation: SourceLocation?, tokensSeen: Bool) {
        if let tokens = config.tokens, let block = config.jwt.first(where: { $0.issuer == tokens.issuer }) {
            error(block.location, "jwt issuer \"\(tokens.issuer)\" is the gateway's own (tokens at \(tokens.location)), which is trusted already")
        }
        guard config.tokens == nil, !tokensSeen else { return }
        if config.identityToken, let identityTokenLocation {
            error(identityTokenLocation, "\"identity_token\" needs a `tokens` block with a signing_key")
        }
        for route in config.routes where route.identityToken == true {
            error(route.location, "\"identity_token\" needs a `tokens` block with a signing_key")
        }
    }
}

extension ConfigValidator {
    /// `resource URL;` (top level or in a route): an RFC 9728 resource identifier.
    /// - Returns: nil after reporting.
    mutating func resourceURL(_ argument: ConfigArgument) -> String? {
        if let problem = ProtectedResource.problem(argument.text) {
            error(argument.location, "resource \"\(argument.text)\" \(problem)")
            return nil
        }
        return argument.text
    }

    /// Two different resources cannot share a metadata path (`https://a/mcp` and `https://b/mcp`
    /// would both be described at `/.well-known/oauth-protected-resource/mcp`).
    mutating func checkResources(_ config: GatewayConfig) {
        var byPath: [String: String] = [:]
        if let resource = config.resource { byPath[ProtectedResource.metadataPath(for: resource)] = resource }
        for route in config.routes {
            guard let resource = route.resource else { continue }
            let path = ProtectedResource.metadataPath(for: resource)
            if let other = byPath[path], other != resource {
                error(route.location, "resource \"\(resource)\" and \"\(other)\" would share the metadata path \(path)")
            }
            byPath[path] = byPath[path] ?? resource
        }
    }
}

extension ConfigValidator {
    /// The shortest registration token: guessing it must be hopeless.
    static let minRegistrationTokenBytes = 16

    /// `registration { require_token SECRET; roles R...; permissions P...; }`.
    /// - Returns: nil after reporting a problem.
    mutating func registration(_ directive: ConfigDirective, roleReferences: inout [ConfigArgument]) -> RegistrationConfig? {
        var result = RegistrationConfig(location: directive.location)
        var seen: [String: SourceLocation] = [:]
        var valid = true
        var sawToken = false
        for child in directive.block ?? [] {
            switch child.name {
            case "require_token":
                sawToken = true
                guard once(child, &seen), shape(child, arguments: 1...1), let token = secret(child.arguments[0]) else {
                    valid = false; continue
                }
                guard token.count >= Self.minRegistrationTokenBytes else {
                    error(child.arguments[0].location, "the registration token must be at least \(Self.minRegistrationTokenBytes) bytes")
                    valid = false; continue
                }
                result.tokenDigest = Digest.sha256(token)
            case "roles":
                guard once(child, &seen), shape(child, arguments: 1...Int.max) else { valid = false; continue }
                roleReferences += child.arguments
                result.roles = child.arguments.map(\.text)
            case "permissions":
                guard once(child, &seen), shape(child, arguments: 1...Int.max),
                      child.arguments.allSatisfy({ permission($0, wildcards: false) }) else { valid = false; continue }
                result.permissions = child.arguments.map(\.text)
            default:
                reject(child, in: .registration)
                valid = false
            }
        }
        valid = required(sawToken, in: directive, "a \"require_token\"") && valid
        return valid ? result : nil
    }
}
