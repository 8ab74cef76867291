/// A request rate as written in the config (`600/min burst=100`): the limit a rate limiter
/// enforces per principal or per client address (SPEC §7).
package struct Rate: Sendable, Equatable, CustomStringConvertible {
    /// Requests allowed per `period` (the `600` of `600/min`); at least 1.
    package var count: Int
    /// The window: one second (`/s`), minute (`/min`), hour (`/h`) or day (`/d`).
    package var period: Duration
    /// `burst=N` — requests allowed at once above the steady rate; nil when not written
    /// (the limiter then uses `count`).
    package var burst: Int?

    package init(count: Int, period: Duration, burst: Int? = nil) {
        self.count = count
        self.period = period
        self.burst = burst
    }

    package var description: String {
        let unit =
            period == .seconds(1) ? "s" : period == .seconds(60) ? "min" : period == .seconds(3600) ? "h" : "d"
        return "\(count)/\(unit)" + (burst.map { " burst=\($0)" } ?? "")
    }
}

extension ConfigValue {
    /// The largest count (and burst) a rate may have, so GCRA arithmetic in nanoseconds has
    /// room and a typo cannot silently turn a limit into no limit.
    package static let maxRateCount = 1_000_000_000

    /// A rate `N/s`, `N/min`, `N/h` or `N/d`, with the optional separate argument `burst=N`.
    /// - Parameters:
    ///   - text: the rate argument (`100/s`).
    ///   - burst: the following argument when present (`burst=20`).
    /// - Throws: `ConfigValueError` for a malformed rate, an unknown period, zero, or a bad burst.
    package static func rate(_ text: String, burst: String? = nil) throws(ConfigValueError) -> Rate {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = decimal(parts[0]) else {
            throw ConfigValueError("invalid rate \"\(text)\"; expected COUNT/PERIOD: 100/s, 600/min, 10000/h")
        }
        guard count >= 1 else { throw ConfigValueError("rate \"\(text)\" must allow at least 1 request") }
        guard count <= maxRateCount else {
            throw ConfigValueError("rate \"\(text)\" is too large (at most \(maxRateCount) per period)")
        }
        let period: Duration
        switch parts[1] {
        case "s": period = .seconds(1)
        case "min": period = .seconds(60)
        case "h": period = .seconds(3600)
        case "d": period = .seconds(86_400)
        case "m": throw ConfigValueError("invalid rate period \"m\" in \"\(text)\"; write /min for minutes")
        default: throw ConfigValueError("invalid rate period \"\(parts[1])\" in \"\(text)\"; expected s, min, h or d")
        }
        var rate = Rate(count: count, period: period)
        if let burst {
            guard burst.hasPrefix("burst=") else {
                throw ConfigValueError("unexpected \"\(burst)\" after a rate; expected burst=N")
            }
            let value = burst.dropFirst("burst=".count)
            guard let n = decimal(value), n >= 1, n <= maxRateCount else {
                throw ConfigValueError("invalid burst \"\(value)\"; expected a whole number 1...\(maxRateCount)")
            }
            rate.burst = n
        }
        return rate
    }
}

extension ConfigValue {
    /// An API key's stored limit (`KeyRecord.rateLimit`): the config syntax on one line,
    /// `100/min` or `100/min burst=5` (single spaces or several).
    /// - Throws: `ConfigValueError` as for `rate(_:burst:)`, or for more than two words.
    package static func storedRate(_ text: String) throws(ConfigValueError) -> Rate {
        let words = text.split(separator: " ")
        guard (1...2).contains(words.count) else {
            throw ConfigValueError("invalid stored rate limit \"\(text)\"; expected COUNT/PERIOD [burst=N]")
        }
        return try rate(String(words[0]), burst: words.count == 2 ? String(words[1]) : nil)
    }
}
