package import GatewayCrypto
import GatewaySupport

/// A `VerificationKey` is a JWS verifier: bound to one algorithm, parsed once.
extension VerificationKey: JWSVerifier {
    package var algorithmName: String { algorithm.rawValue }
}

/// The JWT side of a loaded configuration: the verifier over every issuer's keys and the
/// verified-token cache (none when every block says `cache 0`).
package struct CompiledJWT: Sendable {
    package let verifier: JWTVerifier
    package let cache: VerifiedTokenCache?
}

/// Builds verification keys from `jwt` blocks; a weak or malformed key is a load error at
/// its `key` line (SPEC §3).
package enum JWTCompiler {
    /// - Parameter ownTokens: the gateway's own issuer (`tokens`), trusted without a `jwt` block.
    package static func compile(_ config: GatewayConfig, ownTokens: TokenIssuer? = nil) throws(ConfigError) -> CompiledJWT? {
        guard !config.jwt.isEmpty || ownTokens != nil else { return nil }
        var problems: [ConfigDiagnostic] = []
        var issuers: [JWTIssuerConfig] = []
        var keys: [JWTKeyEntry] = []
        if let ownTokens {
            issuers.append(ownTokens.issuerConfig)
            keys += ownTokens.verificationEntries
        }
        for block in config.jwt {
            issuers.append(JWTIssuerConfig(
                issuer: block.issuer, audiences: block.audiences, leeway: block.leeway, requireExp: block.requireExp,
                requiredTyp: block.requiredTyp, claims: block.claims))
            for key in block.keys {
                guard let algorithm = JWSAlgorithm(rawValue: key.algorithm) else {
                    problems.append(ConfigDiagnostic(key.location, "unknown algorithm \"\(key.algorithm)\""))
                    continue
                }
                do {
                    let verifier = try key.material.reveal { material throws(CryptoError) in
                        algorithm.isHMAC
                            ? try VerificationKey(hmacSecret: material, algorithm: algorithm)
                            : try VerificationKey(pem: material, algorithm: algorithm)
                    }
                    keys.append(JWTKeyEntry(kid: key.kid, verifier: verifier, issuer: block.issuer))
                } catch {
                    problems.append(ConfigDiagnostic(key.location, "key \"\(key.kid)\": \(error.message)"))
                }
            }
            for file in block.jwksFiles {
                do {
                    for (kid, key) in try JWKSLoader.keys(from: file.document) {
                        keys.append(JWTKeyEntry(kid: kid, verifier: key, issuer: block.issuer))
                    }
                } catch {
                    problems.append(ConfigDiagnostic(file.location, "jwks_file \(file.path): \(error.message)"))
                }
            }
        }
        guard problems.isEmpty else { throw ConfigError(problems) }
        let cacheSize = config.jwt.map(\.cacheSize).max() ?? JWTBlockConfig.defaultCacheSize
        return CompiledJWT(
            verifier: JWTVerifier(issuers: issuers, keys: keys, maxTokenBytes: config.limits.maxTokenBytes),
            cache: cacheSize > 0 ? VerifiedTokenCache(capacity: cacheSize) : nil)
    }
}
