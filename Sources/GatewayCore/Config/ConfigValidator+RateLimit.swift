extension ConfigValidator {
    /// `rate_limit RATE [burst=N];` (top level or in a route) and
    /// `auth_failure_limit RATE [burst=N] | off;`: the rate is checked at its argument, the
    /// burst at its own.
    /// - Parameter allowOff: whether `off` is accepted (not for the top-level `rate_limit`,
    ///   where leaving the directive out already means no default limit).
    /// - Returns: `.rate` or `.off` (never `.inherit`), or nil after reporting.
    mutating func rateLimit(_ directive: ConfigDirective, allowOff: Bool) -> RouteRateLimit? {
        guard shape(directive, arguments: 1...2) else { return nil }
        let rateArgument = directive.arguments[0]
        if rateArgument.text == "off" {
            guard allowOff else {
                error(rateArgument.location, "top-level \"\(directive.name)\" needs a rate; leave it out for no default limit")
                return nil
            }
            if directive.arguments.count > 1 {
                error(directive.arguments[1].location, "\"\(directive.name) off\" takes no burst")
                return nil
            }
            return .off
        }
        guard var rate = parse(rateArgument, { text throws(ConfigValueError) in try ConfigValue.rate(text) }) else {
            return nil
        }
        if directive.arguments.count > 1 {
            let burstArgument = directive.arguments[1]
            guard let withBurst = parse(burstArgument, { text throws(ConfigValueError) in
                try ConfigValue.rate(rateArgument.text, burst: text)
            }) else { return nil }
            rate = withBurst
        }
        return .rate(rate)
    }
}
