/// The address of a remote JWKS document (`jwks_url URL;`, SPEC §5), parsed once at load.
///
/// Only what a key fetch needs: scheme, host, port and request target. Userinfo is refused
/// (credentials do not belong in a config line that `check-config` prints), and so is a
/// fragment (never sent). The host is kept as written (a name is resolved by the fetcher, off
/// the request path); IPv6 literals are written in brackets and stored without them.
package struct JWKSURL: Sendable, Hashable, CustomStringConvertible {
    /// How the document is fetched. Each scheme has its own `JWKSTransport`.
    package enum Scheme: String, Sendable, Hashable {
        case http
        case https

        /// The port used when the URL names none.
        package var defaultPort: UInt16 { self == .http ? 80 : 443 }
    }

    package var scheme: Scheme
    /// A host name, an IPv4 literal, or an IPv6 literal without brackets; lower-case.
    package var host: String
    package var port: UInt16
    /// The request target: the path (`/` when the URL has none) and the query, if any.
    package var target: String

    /// The `Host` header value: the host (bracketed for IPv6) and the port unless it is the default.
    package var authority: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == scheme.defaultPort ? name : "\(name):\(port)"
    }

    /// The URL, normalized (`http://host:port/path`): what logs and `check-config` show.
    package var description: String { "\(scheme.rawValue)://\(authority)\(target)" }

    package init(scheme: Scheme, host: String, port: UInt16, target: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.target = target
    }

    /// Parses `http://host[:port][/path][?query]` or the same with `https://`.
    /// - Throws: `ConfigValueError` naming what is wrong (scheme, host, port, characters).
    package static func parse(_ text: String) throws(ConfigValueError) -> JWKSURL {
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ConfigValueError("invalid URL \"\(text)\": only visible ASCII characters are allowed")
        }
        let scheme: Scheme
        var rest: ArraySlice<UInt8>
        if let after = strippingPrefix(bytes, "http://") {
            scheme = .http
            rest = after
        } else if let after = strippingPrefix(bytes, "https://") {
            scheme = .https
            rest = after
        } else {
            throw ConfigValueError("invalid URL \"\(text)\": expected http://host[:port]/path")
        }
        if rest.contains(UInt8(ascii: "#")) { throw ConfigValueError("invalid URL \"\(text)\": a fragment is not allowed") }
        let authorityEnd = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? rest.endIndex
        let authority = rest[rest.startIndex..<authorityEnd]
        rest = rest[authorityEnd...]
        if authority.contains(UInt8(ascii: "@")) {
            throw ConfigValueError("invalid URL \"\(text)\": user information is not allowed")
        }
        let (host, port) = try hostAndPort(authority, scheme: scheme, text: text)
        var target = String(decoding: rest, as: UTF8.self)
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        return JWKSURL(scheme: scheme, host: host, port: port, target: target)
    }

    private static func hostAndPort(
        _ authority: ArraySlice<UInt8>, scheme: Scheme, text: String
    ) throws(ConfigValueError) -> (String, UInt16) {
        var hostPart = authority
        var portPart: ArraySlice<UInt8>? = nil
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else {
                throw ConfigValueError("invalid URL \"\(text)\": unterminated IPv6 address")
            }
            hostPart = authority[(authority.startIndex + 1)..<close]
            let after = authority[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { throw ConfigValueError("invalid URL \"\(text)\": bad port") }
                portPart = after.dropFirst()
            }
            guard !hostPart.isEmpty, hostPart.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else {
                throw ConfigValueError("invalid URL \"\(text)\": bad IPv6 address")
            }
        } else {
            if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
                hostPart = authority[authority.startIndex..<colon]
                portPart = authority[(colon + 1)...]
            }
            guard isHostName(hostPart) else { throw ConfigValueError("invalid URL \"\(text)\": bad or missing host") }
        }
        var port = scheme.defaultPort
        if let portPart {
            guard let value = ConfigValue.decimal(Substring(decoding: portPart, as: UTF8.self)), value >= 1, value <= 65_535 else {
                throw ConfigValueError("invalid URL \"\(text)\": port must be 1...65535")
            }
            port = UInt16(value)
        }
        return (String(decoding: hostPart, as: UTF8.self).lowercased(), port)
    }

    /// A DNS name or IPv4 literal: dot-separated labels of letters, digits and `-`, 1-63 bytes
    /// each, 253 bytes in all (RFC 1123).
    private static func isHostName(_ host: ArraySlice<UInt8>) -> Bool {
        guard !host.isEmpty, host.count <= 253 else { return false }
        for label in host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else { return false }
            guard label.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else { return false }
        }
        return true
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    private static func isHexDigit(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }

    /// `bytes` without `prefix` (compared ASCII case-insensitively), or nil.
    private static func strippingPrefix(_ bytes: [UInt8], _ prefix: StaticString) -> ArraySlice<UInt8>? {
        let count = prefix.utf8CodeUnitCount
        guard bytes.count >= count else { return nil }
        for offset in 0..<count where bytes[offset] | 0x20 != prefix.utf8Start[offset] | 0x20 { return nil }
        return bytes[count...]
    }
}
