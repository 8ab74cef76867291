import GatewayCrypto

/// How the client of a token request authenticated (SPEC §10, RFC 6749 §2.3.1): with its API
/// key (the API-key header or `Authorization: Bearer`), or as an OAuth client whose
/// `client_id` is the key id and `client_secret` the whole key, in HTTP Basic or in the body.
/// Exactly one method may be used (RFC 6749 §2.3).
package enum ClientAuthentication: Sendable, Equatable {
    case none
    /// The whole API key, as presented.
    case apiKey(String)
    /// `client_id` / `client_secret`; `basic` says they came in HTTP Basic.
    case client(id: String, secret: String, basic: Bool)

    /// Whether a failure must be answered with `WWW-Authenticate: Basic`.
    package var usedBasic: Bool {
        if case .client(_, _, basic: true) = self { return true }
        return false
    }

    /// Reads the client's credentials from the request.
    /// - Parameters:
    ///   - authorization: the `Authorization` field value, if any.
    ///   - apiKeyHeader: the API-key header's value, if any.
    /// - Throws: `invalidRequest` for two methods at once or a lone `client_secret`;
    ///   `invalidClient` for a malformed Basic credential or a `client_id` with no secret.
    package static func resolve(
        authorization: String?, apiKeyHeader: String?, parameters: OAuthParameters
    ) throws(OAuthError) -> ClientAuthentication {
        var found: [ClientAuthentication] = []
        if let authorization {
            let (scheme, rest) = split(authorization)
            switch scheme.lowercased() {
            case "basic":
                guard let client = basicCredentials(rest) else { throw .invalidClient(basic: true) }
                found.append(client)
            case "bearer":
                guard !rest.isEmpty else { throw .invalidClient(basic: false) }
                found.append(.apiKey(rest))
            default:
                throw .invalidClient(basic: false)
            }
        }
        if let apiKeyHeader { found.append(.apiKey(apiKeyHeader)) }
        let bodyID = parameters["client_id"]
        let bodySecret = parameters["client_secret"]
        if let bodySecret {
            guard let bodyID else { throw .invalidRequest("client_secret needs client_id.") }
            found.append(.client(id: bodyID, secret: bodySecret, basic: false))
        } else if let bodyID {
            // A public client id alone, allowed only beside Basic credentials naming the same id.
            guard case .client(let id, _, true)? = found.first, id == bodyID, found.count == 1 else {
                throw .invalidClient(basic: found.contains { $0.usedBasic })
            }
        }
        guard found.count <= 1 else { throw .invalidRequest("Use one client authentication method.") }
        return found.first ?? .none
    }

    /// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1 encodes both).
    static func basicCredentials(_ encoded: String) -> ClientAuthentication? {
        guard let decoded = standardBase64Decode(encoded), let colon = decoded.firstIndex(of: UInt8(ascii: ":")),
              let id = OAuthParameters.formDecode(decoded[..<colon]), !id.isEmpty,
              let secret = OAuthParameters.formDecode(decoded[(colon + 1)...]), !secret.isEmpty
        else { return nil }
        return .client(id: id, secret: secret, basic: true)
    }

    /// RFC 4648 §4 base64 with padding, strictly: the length a multiple of 4, `=` only at the end.
    static func standardBase64Decode(_ text: String) -> [UInt8]? {
        var bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count % 4 == 0 else { return nil }
        var padding = 0
        while bytes.last == UInt8(ascii: "="), padding < 2 {
            bytes.removeLast()
            padding += 1
        }
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "+"): bytes[index] = UInt8(ascii: "-")
            case UInt8(ascii: "/"): bytes[index] = UInt8(ascii: "_")
            case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "="): return nil
            default: break
            }
        }
        return Base64URL.decode(bytes)
    }

    /// `scheme SP credentials` (extra spaces tolerated between them).
    private static func split(_ value: String) -> (scheme: String, rest: String) {
        let scheme = value.prefix { $0 != " " }
        let rest = value.dropFirst(scheme.count).drop { $0 == " " }
        return (String(scheme), String(rest))
    }
}
