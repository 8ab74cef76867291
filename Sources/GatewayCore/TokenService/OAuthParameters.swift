import GatewayHTTP

/// The parameters of a token or revocation request: an `application/x-www-form-urlencoded`
/// body (RFC 6749 §4.4.2) or, as SPEC §10 also allows, a JSON object of strings. Strict: a
/// parameter given twice is `invalid_request` (RFC 6749 §3.2), so two layers can never read
/// two different values.
package struct OAuthParameters: Sendable, Equatable {
    package private(set) var values: [String: String] = [:]

    package init(_ values: [String: String] = [:]) { self.values = values }

    package subscript(name: String) -> String? { values[name] }

    /// The largest body the token endpoints read.
    package static let maxBodyBytes = 16 * 1024

    /// Parses `body` by its `Content-Type` (media type only; parameters such as `charset` ignored).
    package static func parse(contentType: String?, body: [UInt8]) throws(OAuthError) -> OAuthParameters {
        guard body.count <= maxBodyBytes else { throw .invalidRequest("The request body is too large.") }
        let media = String((contentType ?? "").prefix { $0 != ";" }.filter { $0 != " " && $0 != "\t" }).lowercased()
        switch media {
        case "application/x-www-form-urlencoded": return try form(body)
        case "application/json": return try json(body)
        default: throw .invalidRequest("Send application/x-www-form-urlencoded or application/json.")
        }
    }

    /// `name=value&...`, `+` as space, percent-decoded, UTF-8.
    package static func form(_ body: [UInt8]) throws(OAuthError) -> OAuthParameters {
        var result = OAuthParameters()
        for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = formDecode(parts[0]), !name.isEmpty,
                  let value = formDecode(parts.count > 1 ? parts[1] : [])
            else { throw .invalidRequest("The form body is malformed.") }
            try result.add(name, value)
        }
        return result
    }

    /// `{"name": "value", ...}`: every member a string.
    package static func json(_ body: [UInt8]) throws(OAuthError) -> OAuthParameters {
        guard case .success(let value) = JSONParser.parse(body, maxBytes: maxBodyBytes), case .object(let members) = value else {
            throw .invalidRequest("The JSON body must be an object.")
        }
        var result = OAuthParameters()
        for (name, member) in members {
            guard let text = member.stringValue else { throw .invalidRequest("Parameter \"\(Self.safeName(name))\" must be a string.") }
            try result.add(name, text)
        }
        return result
    }

    /// One `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte; the
    /// result must be UTF-8 without control characters. - Returns: nil when malformed.
    package static func formDecode(_ bytes: some Collection<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let high = bytes.index(after: index)
                guard high != bytes.endIndex else { return nil }
                let low = bytes.index(after: high)
                guard low != bytes.endIndex, let h = HTTPBytes.hexValue(bytes[high]), let l = HTTPBytes.hexValue(bytes[low]) else { return nil }
                out.append(h << 4 | l)
                index = bytes.index(after: low)
                continue
            }
            out.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index = bytes.index(after: index)
        }
        guard !out.contains(where: { $0 < 0x20 || $0 == 0x7F }), let text = String(validating: out, as: UTF8.self) else { return nil }
        return text
    }

    private mutating func add(_ name: String, _ value: String) throws(OAuthError) {
        guard values[name] == nil else { throw .invalidRequest("Parameter \"\(Self.safeName(name))\" is repeated.") }
        values[name] = value
    }

    /// A parameter name fit to quote in a description: the known names only.
    private static func safeName(_ name: String) -> String {
        ["grant_type", "scope", "client_id", "client_secret", "refresh_token", "token", "token_type_hint"].contains(name)
            ? name : "(unknown)"
    }
}
