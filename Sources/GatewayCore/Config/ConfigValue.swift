/// Why one argument's text is not a valid value. Carries no location: the validator, which
/// knows the argument's position, turns it into a `ConfigDiagnostic`.
package struct ConfigValueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Safe to show: never contains secret material.
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// Pure parsers for the value syntaxes of SPEC §3 (numbers, durations, sizes, rates,
/// addresses, secrets). Each takes the argument text and either returns a typed value or
/// explains the problem; they read no files or environment (except `SecretSource.resolve`).
package enum ConfigValue {
    /// A plain non-negative decimal integer (`100`) within `range`.
    /// - Throws: `ConfigValueError` for signs, other characters, or a value out of range.
    package static func integer(_ text: String, in range: ClosedRange<Int>) throws(ConfigValueError) -> Int {
        guard let value = decimal(Substring(text)) else {
            throw ConfigValueError("invalid number \"\(text)\"")
        }
        guard range.contains(value) else {
            throw ConfigValueError("\(text) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A duration: an integer and one unit, `ms`, `s`, `m` (minutes), `h` or `d`
    /// (`250ms`, `30s`, `5m`, `1h`, `7d`). A bare number is rejected: units are never guessed.
    /// - Throws: `ConfigValueError` for a missing or unknown unit, or an overflow.
    package static func duration(_ text: String) throws(ConfigValueError) -> Duration {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = text[digits.endIndex...]
        guard !digits.isEmpty, let value = decimal(digits) else {
            throw ConfigValueError("invalid duration \"\(text)\"; expected a number and a unit: 250ms, 30s, 5m, 1h, 7d")
        }
        let millisecondsPerUnit: Int
        switch unit {
        case "ms": millisecondsPerUnit = 1
        case "s": millisecondsPerUnit = 1000
        case "m": millisecondsPerUnit = 60_000
        case "h": millisecondsPerUnit = 3_600_000
        case "d": millisecondsPerUnit = 86_400_000
        case "":
            throw ConfigValueError("duration \"\(text)\" needs a unit: ms, s, m, h or d")
        default:
            throw ConfigValueError("invalid duration unit \"\(unit)\" in \"\(text)\"; expected ms, s, m, h or d")
        }
        let (milliseconds, overflow) = value.multipliedReportingOverflow(by: millisecondsPerUnit)
        // A century is far beyond any sensible timeout and keeps arithmetic on it safe.
        guard !overflow, milliseconds <= 100 * 365 * 86_400_000 else {
            throw ConfigValueError("duration \"\(text)\" is too large")
        }
        return .milliseconds(milliseconds)
    }

    /// A byte size: an integer with an optional binary suffix `k`, `m` or `g` (either case;
    /// `k` = 1024). `512`, `16k`, `10m`, `1g`.
    /// - Throws: `ConfigValueError` for another suffix or an overflow.
    package static func size(_ text: String) throws(ConfigValueError) -> Int {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let suffix = text[digits.endIndex...]
        guard !digits.isEmpty, let value = decimal(digits) else {
            throw ConfigValueError("invalid size \"\(text)\"; expected a number with an optional k, m or g: 512, 16k, 10m")
        }
        let multiplier: Int
        switch suffix {
        case "": multiplier = 1
        case "k", "K": multiplier = 1 << 10
        case "m", "M": multiplier = 1 << 20
        case "g", "G": multiplier = 1 << 30
        default:
            throw ConfigValueError("invalid size suffix \"\(suffix)\" in \"\(text)\"; expected k, m or g")
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow, bytes <= 1 << 50 else { throw ConfigValueError("size \"\(text)\" is too large") }
        return bytes
    }

    /// ASCII digits only, no sign, at most 15 digits (so no overflow anywhere); nil otherwise.
    static func decimal(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 15 else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
