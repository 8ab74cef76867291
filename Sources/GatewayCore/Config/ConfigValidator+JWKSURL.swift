extension ConfigValidator {
    /// `jwks_url URL [refresh=DURATION];` inside `jwt`: an `http://` URL (TLS comes later, so
    /// `https://` is refused for now) and an optional refresh interval of at least 30 s.
    /// Nothing is fetched here: validation never touches the network (STYLE §7).
    /// - Returns: nil after reporting.
    mutating func jwksURL(_ directive: ConfigDirective, existing: [JWKSURLConfig]) -> JWKSURLConfig? {
        let argument = directive.arguments[0]
        guard let url = parse(argument, JWKSURL.parse) else { return nil }
        guard url.scheme == .http else {
            error(argument.location, "TLS for jwks_url is not supported yet; use an http:// URL")
            return nil
        }
        if let first = existing.first(where: { $0.url == url }) {
            error(argument.location, "duplicate jwks_url \(url) (first at \(first.location))")
            return nil
        }
        var entry = JWKSURLConfig(url: url, location: directive.location)
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
}
