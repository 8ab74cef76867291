/// A compiled route pattern: literal segments, `{name}`, `*`, and a trailing `**`.
///
/// Patterns are validated and canonicalized once, at config load, so that matching compares
/// bytes only. Literal segments are stored in the same canonical form `PathNormalizer` produces
/// for requests (unreserved escapes decoded, other escapes with uppercase hex): `/%7euser` and
/// `/~user` are the same pattern, and a literal can never silently fail to match its own path.
///
/// Grammar (SPEC §4):
/// - the pattern starts with `/`; `/` alone is the root; otherwise segments are separated by `/`
///   and none is empty (so no `//` and no trailing `/`: write `/a` or `/a/**`);
/// - `{name}` (`[A-Za-z_][A-Za-z0-9_]*`, unique within the pattern) matches and captures one
///   non-empty segment; `*` matches one non-empty segment without capturing;
/// - `**`, only as the last segment, matches zero or more segments (`/a/**` matches `/a`, `/a/`
///   and `/a/b/c`);
/// - a literal segment consists of RFC 3986 path characters (`pchar`) and `%XX` escapes, is not `.`
///   or `..`, and does not contain `{`, `}` or `*` (write `%2A` for a literal `*`).
package struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    /// One segment of a pattern.
    package enum Segment: Sendable, Hashable {
        /// Matches exactly these bytes (canonical form, never empty).
        case literal([UInt8])
        /// `{name}`: matches one non-empty segment and captures it as `name`.
        case parameter(String)
        /// `*`: matches one non-empty segment.
        case wildcard
        /// `**`: the last segment; matches zero or more segments.
        case catchAll
    }

    /// The segments, left to right; empty for the root pattern `/`.
    package let segments: [Segment]
    /// The pattern exactly as written in the config.
    package let description: String

    /// Parses and validates a pattern.
    ///
    /// - Throws: `RoutePatternError` with a human-readable message for the config error.
    package init(_ text: String) throws(RoutePatternError) {
        description = text
        let bytes = Array(text.utf8)
        guard bytes.first == slashByte else {
            throw RoutePatternError("route pattern \(Self.quoted(text)) must start with '/'")
        }
        if bytes.count == 1 {
            segments = []
            return
        }
        if bytes.last == slashByte, bytes[bytes.count - 2] != slashByte {
            throw RoutePatternError(
                "route pattern \(Self.quoted(text)) must not end with '/': write "
                    + "\(Self.quoted(String(text.dropLast()))) for the path itself or "
                    + "\(Self.quoted(text + "**")) for everything below it")
        }

        var result: [Segment] = []
        var names: Set<String> = []
        let parts = bytes[1...].split(separator: slashByte, omittingEmptySubsequences: false)
        for (position, part) in parts.enumerated() {
            let segment = try Self.parseSegment(part, pattern: text)
            switch segment {
            case .catchAll where position != parts.count - 1:
                throw RoutePatternError(
                    "route pattern \(Self.quoted(text)): '**' is only allowed as the last segment")
            case .parameter(let name):
                guard names.insert(name).inserted else {
                    throw RoutePatternError(
                        "route pattern \(Self.quoted(text)): parameter '{\(name)}' is used more than once")
                }
            default:
                break
            }
            result.append(segment)
        }
        segments = result
    }

    private static func parseSegment(_ part: ArraySlice<UInt8>, pattern: String) throws(RoutePatternError) -> Segment {
        func failure(_ message: String) -> RoutePatternError {
            RoutePatternError("route pattern \(quoted(pattern)): \(message)")
        }
        let shown = quoted(String(decoding: part, as: UTF8.self))
        if part.isEmpty { throw failure("empty segment ('//')") }
        if part.elementsEqual([asterisk]) { return .wildcard }
        if part.elementsEqual([asterisk, asterisk]) { return .catchAll }

        if part.first == openBrace || part.last == closeBrace {
            guard part.count >= 2, part.first == openBrace, part.last == closeBrace else {
                throw failure("segment \(shown): a parameter must be a whole segment, written '{name}'")
            }
            let name = part.dropFirst().dropLast()
            guard let head = name.first else {
                throw failure("segment \(shown): a parameter needs a name, e.g. '{id}'")
            }
            guard isNameStart(head), name.allSatisfy(isNameContinuation) else {
                throw failure(
                    "segment \(shown): invalid parameter name; use letters, digits and '_', not starting with a digit")
            }
            return .parameter(String(decoding: name, as: UTF8.self))
        }

        for byte in part {
            switch byte {
            case openBrace, closeBrace:
                throw failure("segment \(shown): a parameter must be a whole segment, written '{name}'")
            case asterisk:
                throw failure(
                    "segment \(shown): '*' and '**' must be whole segments; write '%2A' for a literal '*'")
            case questionMark:
                throw failure("segment \(shown): a pattern matches the path only; '?' (a query) is not allowed")
            case backslashByte:
                throw failure("segment \(shown): '\\' is not allowed; requests containing it are refused")
            case percentByte:
                continue
            default:
                if !PathNormalizer.isPathCharacter(byte) {
                    throw failure("segment \(shown): invalid character \(describe(byte)); percent-encode it")
                }
            }
        }

        // Canonicalize the literal exactly as a request path would be: "/" + segment.
        var normalized: [UInt8] = []
        let input = [slashByte] + part
        let result = input.withUnsafeBytes { raw in
            Result { () throws(PathError) in try PathNormalizer.normalize(raw, into: &normalized) }
        }
        if case .failure(let error) = result {
            switch error {
            case .escapesRoot:
                throw failure("segment \(shown): '.' and '..' segments are not allowed")
            case .dotSegmentWithParameter:
                throw failure("segment \(shown): '.' or '..' with a ';' parameter is not allowed; requests containing it are refused")
            case .invalidPercentEncoding:
                throw failure("segment \(shown): '%' must be followed by two hexadecimal digits")
            case .encodedSlash:
                throw failure("segment \(shown): an encoded '/' (%2F) is not allowed; requests containing it are refused")
            case .backslash:
                throw failure("segment \(shown): '\\' (%5C) is not allowed; requests containing it are refused")
            case .nul, .controlCharacter:
                throw failure("segment \(shown): control characters are not allowed")
            case .notAbsolute:
                preconditionFailure("the normalizer input starts with '/'")
            case .unresolvedDotSegment:
                preconditionFailure("the normalizer resolves dot segments; only the decision endpoint refuses them")
            }
        }
        guard normalized.count > 1 else {
            // "/." normalizes to "/".
            throw failure("segment \(shown): '.' and '..' segments are not allowed")
        }
        return .literal(Array(normalized.dropFirst()))
    }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, underscore: true
        default: false
        }
    }

    private static func isNameContinuation(_ byte: UInt8) -> Bool {
        isNameStart(byte) || (0x30...0x39).contains(byte)
    }

    private static func quoted(_ text: String) -> String {
        "'\(text)'"
    }

    private static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21, byte <= 0x7E { return "'\(String(UnicodeScalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return "0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}

/// A malformed route pattern; `message` is shown as `file:line:col: message`.
package struct RoutePatternError: Error, Sendable, Equatable {
    /// A human-readable explanation that quotes the pattern and names the offending segment.
    package var message: String
    package init(_ message: String) { self.message = message }
}

private let slashByte: UInt8 = 0x2F
private let asterisk: UInt8 = 0x2A
private let openBrace: UInt8 = 0x7B
private let closeBrace: UInt8 = 0x7D
private let questionMark: UInt8 = 0x3F
private let percentByte: UInt8 = 0x25
private let backslashByte: UInt8 = 0x5C
private let underscore: UInt8 = 0x5F
