import GatewaySupport

extension ConfigValidator {
    /// `introspection { url URL; client_id ID; client_secret SECRET; cache D; negative_cache D;
    /// audience A…; claims …; }`. Nothing is fetched at load.
    /// - Returns: nil after reporting.
    mutating func introspectionBlock(_ directive: ConfigDirective) -> IntrospectionConfig? {
        var seen: [String: SourceLocation] = [:]
        var url: JWKSURL? = nil
        var clientID: String? = nil
        var secret: [UInt8]? = nil
        var cacheTTL: Duration? = nil
        var negativeTTL: Duration? = nil
        var audiences: [String] = []
        var claims = ClaimMapping(userID: ["sub", "username", "client_id"])
        var caFile: String? = nil
        var valid = true
        for child in directive.block ?? [] {
            switch child.name {
            case "url", "client_id", "client_secret", "cache", "negative_cache":
                guard once(child, &seen), shape(child, arguments: 1...1) else { valid = false; continue }
                let argument = child.arguments[0]
                switch child.name {
                case "url":
                    url = parse(argument, JWKSURL.parse)
                    if let parsed = url, parsed.scheme == .http, !Self.isLoopback(parsed.host) {
                        error(argument.location, "introspection sends bearer tokens to the endpoint: use https (http only on loopback)")
                        valid = false
                    }
                case "client_id": clientID = argument.text
                case "client_secret": secret = self.secret(argument)
                case "cache": cacheTTL = positiveDuration(argument)
                default: negativeTTL = positiveDuration(argument)
                }
            case "audience":
                guard once(child, &seen), shape(child, arguments: 1...Int.max) else { valid = false; continue }
                audiences = child.arguments.map(\.text)
            case "claims":
                guard once(child, &seen), shape(child, arguments: 1...Int.max) else { valid = false; continue }
                valid = identityClaims(child, into: &claims) && valid
            case "ca":
                guard once(child, &seen), shape(child, arguments: 1...1), let path = filePath(child.arguments[0]) else {
                    valid = false
                    continue
                }
                caFile = path
            default:
                error(child.location, "unknown directive \"\(child.name)\" inside \"introspection\"")
                valid = false
            }
        }
        valid = required(url != nil, in: directive, "a \"url\"") && valid
        valid = required(clientID != nil, in: directive, "a \"client_id\"") && valid
        valid = required(secret != nil, in: directive, "a \"client_secret\"") && valid
        if let ca = seen["ca"], let url, url.scheme != .https {
            error(ca, "\"ca\" needs an https \"url\" (it would do nothing)")
            valid = false
        }
        guard valid, let url, let clientID, let secret else { return nil }
        var config = IntrospectionConfig(url: url, clientID: clientID, clientSecret: Secret(secret), location: directive.location)
        if let cacheTTL { config.cacheTTL = cacheTTL }
        if let negativeTTL { config.negativeTTL = negativeTTL }
        config.audiences = audiences
        config.claims = claims
        config.caFile = caFile
        return config
    }
}
