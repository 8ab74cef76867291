package import GatewayCrypto
import GatewayTLS
import GatewaySupport

/// A `VerificationKey` is a JWS verifier: bound to one algorithm, parsed once.
extension VerificationKey: JWSVerifier {
    package var algorithmName: String { algorithm.rawValue }
}

/// The JWT side of a loaded configuration: the verifier over every issuer's keys, the
/// verified-token cache (none when every block says `cache 0`), and the `jwks_url` key sources
/// the fetcher keeps filled, each with its configured `refresh=`.
package struct CompiledJWT: Sendable {
    package let verifier: JWTVerifier
    package let cache: VerifiedTokenCache?
    package let keySources: [(source: JWKSKeySource, refresh: Duration)]
    /// Each key source's `ca` context (nil: the system store), in `keySources` order.
    let keySourceTLS: [ClientTLS?]
    /// Keys of `jwks_file` documents that were skipped (unusable for signatures), as warnings.
    package var warnings: [ConfigDiagnostic] = []

    /// Gives each key source its block's `ca`. Called once the whole configuration loaded: a
    /// reused source belongs to the running configuration until then.
    func installKeySourceTLS() {
        for (entry, tls) in zip(keySources, keySourceTLS) { entry.source.tls = tls }
    }
}

/// Builds verification keys from `jwt` blocks; a weak or malformed key is a load error at
/// its `key` line (SPEC §3). `jwks_url` lines become key sources, created empty (nothing is
/// fetched here) or taken over from the previous configuration.
package enum JWTCompiler {
    /// - Parameters:
    ///   - ownTokens: the gateway's own issuer (`tokens`), trusted without a `jwt` block.
    ///   - reusing: the key sources of the running configuration: a `jwks_url` of the same
    ///     issuer and URL keeps its source (and its last good key set) instead of a new one.
    ///   - clock: monotonic milliseconds for new sources' refresh policy.
    package static func compile(
        _ config: GatewayConfig, ownTokens: TokenIssuer? = nil, reusing: [JWKSKeySource] = [],
        clock: @escaping @Sendable () -> Int64 = { MonotonicClock.nowMilliseconds() }
    ) throws(ConfigError) -> CompiledJWT? {
        guard !config.jwt.isEmpty || ownTokens != nil else { return nil }
        var problems: [ConfigDiagnostic] = []
        var issuers: [JWTIssuerConfig] = []
        var keys: [JWTKeyEntry] = []
        var sources: [(source: JWKSKeySource, refresh: Duration)] = []
        var contexts: [ClientTLS?] = []
        var skippedKeys: [ConfigDiagnostic] = []
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
                    let loaded = try JWKSLoader.keys(from: file.document)
                    for (kid, key) in loaded.keys {
                        keys.append(JWTKeyEntry(kid: kid, verifier: key, issuer: block.issuer))
                    }
                    skippedKeys += loaded.skipped.map { ConfigDiagnostic(file.location, "jwks_file \(file.path): \($0) (skipped)") }
                } catch {
                    problems.append(ConfigDiagnostic(file.location, "jwks_file \(file.path): \(error.message)"))
                }
            }
            let tls = block.caFile.flatMap {
                LoadedConfig.loadClientTLS(ClientTLSSettings(caFile: $0), for: "jwt \(block.issuer)", at: block.location, &problems)
            }
            for entry in block.jwksURLs {
                let source = reusing.first { $0.issuer == block.issuer && $0.url == entry.url && $0.isDiscovery == entry.discovery }
                    ?? JWKSKeySource(
                        url: entry.url, issuer: block.issuer, isDiscovery: entry.discovery,
                        settings: JWKSRefreshPolicy.Settings(refreshInterval: entry.refresh.milliseconds), clock: clock)
                sources.append((source, entry.refresh))
                contexts.append(tls)
            }
        }
        guard problems.isEmpty else { throw ConfigError(problems) }
        let cacheSize = config.jwt.map(\.cacheSize).max() ?? JWTBlockConfig.defaultCacheSize
        return CompiledJWT(
            verifier: JWTVerifier(
                issuers: issuers, keys: keys, keySources: sources.map(\.source), maxTokenBytes: config.limits.maxTokenBytes),
            cache: cacheSize > 0 ? VerifiedTokenCache(capacity: cacheSize) : nil,
            keySources: sources, keySourceTLS: contexts, warnings: skippedKeys)
    }
}
