import GatewayCore
import GatewayCrypto
import GatewayStore
import GatewaySupport

/// The authentication cases: JWT verification per algorithm (signature only and the whole
/// `JWTVerifier` pipeline, uncached), a verified-token cache hit, and API-key checks against
/// a 10,000-key index. Everything is built once, before any timing.
struct AuthCases {
    /// The unix second every case verifies at (tokens are valid for an hour around it).
    let now: Int64
    /// Lines describing the setup, printed before the figures.
    private(set) var notes: [String] = []
    private(set) var cases: [BenchCase] = []

    static let issuer = "https://auth.example.com"
    static let audience = "orders-api"
    static let indexedKeys = 10_000
    static let cachedTokens = 10_000

    /// One signing key per JWS algorithm family the gateway verifies.
    private struct Algorithm {
        let name: String
        let kid: String
        let key: SigningKey
    }

    /// Builds every case. - Throws: `CryptoError` when a benchmark key does not load.
    init(now: Int64) throws(CryptoError) {
        self.now = now
        let algorithms = [
            Algorithm(name: "hs256", kid: "hs-1", key: try SigningKey(hmacSecret: SecureRandom.bytes(32), algorithm: .hs256)),
            Algorithm(name: "rs256", kid: "rs-1", key: try Self.privateKey(BenchKeys.rsa2048Private, .rs256)),
            Algorithm(name: "ps256", kid: "ps-1", key: try Self.privateKey(BenchKeys.rsa2048Private, .ps256)),
            Algorithm(name: "es256", kid: "es-1", key: try Self.privateKey(BenchKeys.p256Private, .es256)),
            Algorithm(name: "eddsa", kid: "ed-1", key: try Self.privateKey(BenchKeys.ed25519Private, .edDSA)),
        ]
        // One issuer trusting all five keys, as a gateway with one `jwt` block would.
        let verifier = JWTVerifier(
            issuers: [JWTIssuerConfig(issuer: Self.issuer, audiences: [Self.audience])],
            keys: algorithms.map { JWTKeyEntry(kid: $0.kid, verifier: $0.key.verificationKey, issuer: Self.issuer) })
        notes.append("openssl library: \(CryptoLibrary.version)")

        for algorithm in algorithms {
            let (token, signingInput, signature) = try token(algorithm)
            notes.append("\(algorithm.name) token: \(token.count) bytes, signing input \(signingInput.count) bytes")
            let full = BenchCase(
                name: algorithm.name == "hs256" ? "hs256_verify_uncached" : "\(algorithm.name)_verify",
                summary: "JWTVerifier.verify of a whole \(algorithm.key.algorithm.rawValue) token, no cache") {
                    if case .success = verifier.verify(token, now: now) { return true }
                    return false
                }
            let key = algorithm.key.verificationKey
            let signatureOnly = BenchCase(
                name: "\(algorithm.name)_signature_only",
                summary: "VerificationKey.verify of the signature over header.payload") {
                    signature.withUnsafeBytes { signature in
                        signingInput.withUnsafeBytes { key.verify(signature: signature, message: $0) }
                    }
                }
            cases += [full, signatureOnly]
            if algorithm.name == "hs256" { cases += try cachedLookup(token, verifier: verifier) }
        }
        cases += apiKeyChecks()
    }

    private static func privateKey(_ pem: String, _ algorithm: JWSAlgorithm) throws(CryptoError) -> SigningKey {
        try SigningKey(privateKeyPEM: Array(pem.utf8), algorithm: algorithm)
    }

    /// A realistic access token: iss, aud, sub, iat, exp, jti and five permissions.
    private func token(_ algorithm: Algorithm) throws(CryptoError) -> (token: [UInt8], signingInput: [UInt8], signature: [UInt8]) {
        let header = #"{"alg":"\#(algorithm.key.algorithm.rawValue)","typ":"JWT","kid":"\#(algorithm.kid)"}"#
        let payload = #"{"iss":"\#(Self.issuer)","aud":"\#(Self.audience)","sub":"user-7f3c9a12","iat":\#(now - 60),"#
            + #""exp":\#(now + 3600),"jti":"\#(APIKeyFormat.randomBase62(count: 22))","#
            + #""permissions":["orders:read","orders:write","invoices:read","profile:read","reports:export"]}"#
        let signingInput = Array((Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))).utf8)
        let signed = signingInput.withUnsafeBytes { bytes in Result { () throws(CryptoError) in try algorithm.key.sign(bytes) } }
        let signature = try signed.get()
        let token = signingInput + Array(("." + Base64URL.encode(signature)).utf8)
        return (token, signingInput, signature)
    }

    /// A hit in a cache that already holds `cachedTokens` other tokens: hash the token, look it up.
    /// Also times the hash alone, to split the hit's cost.
    private func cachedLookup(_ token: [UInt8], verifier: JWTVerifier) throws(CryptoError) -> [BenchCase] {
        guard case .success(let verified) = verifier.verify(token, now: now) else {
            throw CryptoError("the HS256 benchmark token does not verify")
        }
        let cache = VerifiedTokenCache()
        for _ in 0..<Self.cachedTokens {
            cache.insert(TokenHash(digest: SecureRandom.bytes(32)), token: verified, now: now)
        }
        cache.insert(TokenHash(token: token), token: verified, now: now)
        let now = now
        let hash = TokenHash(token: token)
        return [
            BenchCase(
                name: "cached_lookup",
                summary: "TokenHash(token:) (SHA-256) + VerifiedTokenCache.lookup hit, \(Self.cachedTokens + 1) entries") {
                    cache.lookup(TokenHash(token: token), now: now) != nil
                },
            BenchCase(name: "token_hash", summary: "TokenHash(token:) alone: the SHA-256 part of cached_lookup") {
                TokenHash(token: token) == hash
            },
        ]
    }

    /// A valid key and a key with the right id but a wrong secret, against `indexedKeys` keys.
    private mutating func apiKeyChecks() -> [BenchCase] {
        let prefixes = ["gw_"]
        var records: [KeyRecord] = []
        var keys: [(id: String, key: String)] = []
        records.reserveCapacity(Self.indexedKeys)
        for number in 0..<Self.indexedKeys {
            let made = APIKeyFormat.generate(prefix: prefixes[0])
            records.append(KeyRecord(
                id: made.id, principalID: "principal-\(number)", name: "bench", prefix: prefixes[0],
                permissions: ["orders:read"], roles: [], rateLimit: nil, orgID: nil, createdAt: 0, expiresAt: nil,
                lastUsedAt: nil, active: true, rotatedFrom: nil, graceUntil: nil, isLegacy: false,
                secretHash: Digest.sha256(Array(made.secret.utf8))))
            keys.append((made.id, made.key))
        }
        let index = APIKeyIndex(records: records)
        notes.append("api key index: \(index.count) keys")
        let now = Int(now)
        let valid = Array(keys[keys.count / 2].key.utf8)
        let body = prefixes[0] + keys[keys.count / 2].id + "_" + APIKeyFormat.randomBase62(count: APIKeyFormat.secretLength)
        let wrongSecret = Array((body + APIKeyFormat.checksum(of: Array(body.utf8))).utf8)
        return [
            BenchCase(name: "api_key_check", summary: "APIKeyIndex.authenticate of a valid key") {
                if case .success = index.authenticate(presented: valid, prefixes: prefixes, now: now) { return true }
                return false
            },
            BenchCase(name: "api_key_wrong_secret", summary: "APIKeyIndex.authenticate: known id, wrong secret") {
                index.authenticate(presented: wrongSecret, prefixes: prefixes, now: now) == .failure(.wrongSecret)
            },
        ]
    }
}
