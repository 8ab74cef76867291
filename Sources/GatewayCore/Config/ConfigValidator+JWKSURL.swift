extension ConfigValidator {
    /// `jwks_url URL [refresh=DURATION];` (or `discovery URL …`) inside `jwt`: an `http://`
    /// or `https://` URL and an optional refresh interval of at least 30 s.
    /// Nothing is fetched here: validation never touches the network (STYLE §7).
    /// - Returns: nil after reporting.
    mutating func jwksURL(_ directive: ConfigDirective, existing: [JWKSURLConfig]) -> JWKSURLConfig? {
        let argument = directive.arguments[0]
        guard let url = parse(argument, JWKSURL.parse) else { return nil }
        if let first = existing.first(where: { $0.url == url }) {
            error(argument.location, "duplicate \(directive.name) \(url) (first at \(first.location))")
            return nil
        }
        var entry = JWKSURLConfig(url: url, location: directive.location)
        entry.discovery = directive.name == "discovery"
        if url.scheme == .http && !Self.isLoopback(url.host) {
            warning(argument.location, "\(directive.name) over plain http: anyone on the path can substitute the keys; use https")
        }
        guard directive.arguments.count == 2 else { return entry }
        let option = directive.arguments[1]
        guard option.text.hasPrefix("refresh=") else {
            error(option.location, "unknown jwks_url option \"\(option.text)\"; expected refresh=DURATION")
            return nil
        }
        let minimum = JWKSURLConfig.minimumRefresh
        let refresh = parse(ConfigArgument(text: String(option.text.dropFirst("refresh=".count)), location: option.location)) {
            text throws(ConfigValueError) in
            let duration = try ConfigValue.duration(text)
            guard duration >= minimum else { throw ConfigValueError("refresh must be at least 30s") }
            return duration
        }
        guard let refresh else { return nil }
        entry.refresh = refresh
        return entry
    }

    /// The issuer a discovery URL is built from (OIDC Discovery §4: the issuer followed by
    /// `/.well-known/openid-configuration`; RFC 8414 §3: `/.well-known/oauth-authorization-server`
    /// inserted before the issuer's path). Nil when the URL has neither shape.
    static func issuer(fromDiscovery url: JWKSURL) -> String? {
        let origin = "\(url.scheme.rawValue)://\(url.authority)"
        let oidc = "/.well-known/openid-configuration"
        let oauth = "/.well-known/oauth-authorization-server"
        guard !url.target.contains("?") else { return nil }
        if url.target.hasSuffix(oidc) { return origin + url.target.dropLast(oidc.count) }
        if url.target == oauth { return origin }
        if url.target.hasPrefix(oauth + "/") { return origin + url.target.dropFirst(oauth.count) }
        return nil
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
