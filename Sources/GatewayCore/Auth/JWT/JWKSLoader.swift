package import GatewayCrypto

/// The keys a JWKS document yields, and the keys it held that the gateway cannot use.
package struct JWKSKeys: Sendable {
    /// `(kid, key)` pairs, each bound to one algorithm.
    package var keys: [(kid: String?, key: VerificationKey)]
    /// One line per key that was skipped (`key "kid": reason`), for the log; never key bytes.
    package var skipped: [String]
}

/// Turns a JWKS document (RFC 7517) into verification keys, each bound to one algorithm:
/// RSA keys to their `alg` (RS256 when absent), EC keys to their curve's algorithm, OKP
/// Ed25519 keys to EdDSA.
///
/// Identity providers publish more than signing keys: Keycloak lists an RSA `use: enc` key
/// beside its signing key, others carry `oct` or unknown key types. Such keys are skipped
/// (reported in `skipped`, named by `kid`) and the rest are used; a document is refused only
/// when no usable signing key is left. Symmetric (`oct`) keys are never taken from a JWKS: it
/// is public material, and a secret in it would be a configuration mistake.
package enum JWKSLoader {
    /// - Throws: when the document is not a JWKS or has no usable signing key.
    package static func keys(from document: [UInt8]) throws(JWKSError) -> JWKSKeys {
        let root: JSONValue
        switch JSONParser.parse(document, maxBytes: 1 << 20) {
        case .success(let value): root = value
        case .failure(let error): throw JWKSError("not valid JSON (\(error))")
        }
        guard case .array(let entries)? = root["keys"] else { throw JWKSError("no \"keys\" array") }
        var result = JWKSKeys(keys: [], skipped: [])
        for (position, entry) in entries.enumerated() {
            let kid = entry["kid"]?.stringValue
            let name = kid.map { "key \"\($0)\"" } ?? "key #\(position + 1)"
            do {
                try checkSigningUse(entry)
                result.keys.append((kid, try key(entry)))
            } catch {
                result.skipped.append("\(name): \(error.message)")
            }
        }
        guard !result.keys.isEmpty else {
            let reasons = result.skipped.isEmpty ? "" : " (" + result.skipped.joined(separator: "; ") + ")"
            throw JWKSError("no usable signing keys\(reasons)", isWellFormedJWKS: true)
        }
        return result
    }

    /// Refuses a key published for anything but verifying signatures: `use` other than `sig`,
    /// or `key_ops` without `verify` (RFC 7517 §4.2, §4.3).
    private static func checkSigningUse(_ jwk: JSONValue) throws(JWKSError) {
        if let use = jwk["use"], use.stringValue != "sig" {
            throw JWKSError("use \"\(use.stringValue ?? "?")\" is not for signatures")
        }
        if case .array(let operations)? = jwk["key_ops"], !operations.contains(where: { $0.stringValue == "verify" }) {
            throw JWKSError("key_ops does not include verify")
        }
    }

    private static func key(_ jwk: JSONValue) throws(JWKSError) -> VerificationKey {
        let alg = jwk["alg"]?.stringValue
        do {
            switch jwk["kty"]?.stringValue {
            case "RSA":
                let algorithm = try algorithmNamed(alg ?? "RS256", allowed: [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512])
                return try VerificationKey(rsaModulus: try bytes(jwk, "n"), exponent: try bytes(jwk, "e"), algorithm: algorithm)
            case "EC":
                let byCurve: [String: JWSAlgorithm] = ["P-256": .es256, "P-384": .es384, "P-521": .es512]
                guard let crv = jwk["crv"]?.stringValue, let algorithm = byCurve[crv] else { throw JWKSError("unsupported EC curve") }
                if let alg, alg != algorithm.rawValue { throw JWKSError("alg \(alg) does not match curve \(crv)") }
                return try VerificationKey(ecX: try bytes(jwk, "x"), y: try bytes(jwk, "y"), algorithm: algorithm)
            case "OKP":
                guard jwk["crv"]?.stringValue == "Ed25519" else { throw JWKSError("unsupported OKP curve") }
                if let alg, alg != "EdDSA" { throw JWKSError("alg \(alg) does not match Ed25519") }
                return try VerificationKey(ed25519PublicKey: try bytes(jwk, "x"))
            case "oct":
                throw JWKSError("symmetric keys are not accepted from a JWKS")
            default:
                throw JWKSError("unsupported kty \"\(String((jwk["kty"]?.stringValue ?? "?").prefix(32)))\"")
            }
        } catch let error as JWKSError {
            throw error
        } catch let error as CryptoError {
            throw JWKSError(error.message)
        } catch {
            throw JWKSError("invalid key")
        }
    }

    private static func algorithmNamed(_ name: String, allowed: Set<JWSAlgorithm>) throws(JWKSError) -> JWSAlgorithm {
        guard let algorithm = JWSAlgorithm(rawValue: name), allowed.contains(algorithm) else {
            throw JWKSError("alg \(name) does not fit the key type")
        }
        return algorithm
    }

    private static func bytes(_ jwk: JSONValue, _ member: String) throws(JWKSError) -> [UInt8] {
        guard let text = jwk[member]?.stringValue, let value = Base64URL.decode(text), !value.isEmpty else {
            throw JWKSError("missing or invalid \"\(member)\"")
        }
        return value
    }
}

/// Why a JWKS document was refused (safe to show: names keys, never key bytes).
package struct JWKSError: Error, Sendable {
    package var message: String
    /// The document was a well-formed JWKS, only without a key the gateway can use: the key
    /// server answered properly, so a `kid` missing from it is the token's fault (401), whereas
    /// anything malformed means the server is misbehaving (an unknown `kid` is then a 503).
    package var isWellFormedJWKS: Bool
    package init(_ message: String, isWellFormedJWKS: Bool = false) {
        self.message = message
        self.isWellFormedJWKS = isWellFormedJWKS
    }
}
