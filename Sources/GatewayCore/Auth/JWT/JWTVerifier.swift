import GatewayCrypto

/// A JWT that passed every check, ready to become the request's identity.
package struct VerifiedToken: Sendable, Equatable {
    /// The mapped identity (`method == .jwt`).
    package var identity: Identity
    /// The issuer whose key verified the token.
    package var issuer: String
    /// The last unix second at which the token is still accepted: `exp` plus the leeway used at
    /// verification, minus one (`nil` when the token has no `exp`). A cache must not serve the
    /// token after this.
    package var validUntil: Int64?
}

/// Verifies compact-serialized JWS JWTs (RFC 7519, RFC 7515, best practices of RFC 8725).
///
/// Order (STYLE §8): size limit → exactly three segments → header JSON → `alg` (`none` and
/// unknown rejected) → `crit` → key by `kid` among keys bound to `alg` (no `kid`: up to
/// `maxKeyCandidates` keys bound to `alg`) → signature over the ASCII `header.payload` → only
/// then the payload → `iss` equals the verifying key's issuer → `exp`/`nbf`/`iat` with leeway →
/// `aud` → `typ` → claim mapping. `jku`, `x5u`, `jwk` and `x5c` are never used to find a key.
///
/// Keys are static (inline, PEM, `jwks_file`) or fetched (`jwks_url`, through `JWKSKeySource`s);
/// both follow the same kid/alg/issuer rules. Each source's current key set is read once per
/// verification. A `kid` no key has tells every source, which may start a rate-limited fetch:
/// the failure is then `keyRefreshPending`, and the caller may retry once the fetch is done.
///
/// Immutable after init and `Sendable`: build one per configuration generation and share it
/// across loops. `verify` is safe from any thread and never blocks (a source's lock is held
/// only to copy a reference or update a few counters).
package final class JWTVerifier: Sendable {
    /// Every `alg` the gateway can verify (SPEC §5). Anything else is `jwt_alg_unsupported`.
    package static let supportedAlgorithms: Set<String> = [
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "EdDSA",
    ]

    /// Default token size limit in bytes (SPEC §13, `max_token`).
    package static let defaultMaxTokenBytes = 8192
    /// Default bound on the keys tried for a token without `kid`.
    package static let defaultMaxKeyCandidates = 8

    private struct Key: Sendable {
        let kid: String?
        let algorithm: String
        let verifier: any JWSVerifier
        let issuerIndex: Int
    }

    private let issuers: [JWTIssuerConfig]
    private let leewaySeconds: [Int64]
    private let keys: [Key]
    private let keySources: [(source: JWKSKeySource, issuerIndex: Int)]
    private let maxTokenBytes: Int
    private let maxKeyCandidates: Int
    private let understoodCriticalHeaders: Set<String>

    /// Builds a verifier. Configuration is validated at load, so a key whose `issuer` has no
    /// `JWTIssuerConfig`, or two configs with the same issuer, is a programmer error (trap).
    /// - Parameters:
    ///   - issuers: the trusted issuers.
    ///   - keys: the verification keys, tried in this order when a token has no `kid`.
    ///   - keySources: fetched key sets, each for its `issuer`; their keys are tried after `keys`.
    ///   - maxTokenBytes: tokens longer than this are `jwt_too_large` (default 8 KiB).
    ///   - maxKeyCandidates: at most this many keys are tried for a kid-less token (default 8).
    ///   - understoodCriticalHeaders: `crit` names the caller processes; default none, so any
    ///     `crit` is rejected (RFC 7515 §4.1.11).
    package init(
        issuers: [JWTIssuerConfig], keys: [JWTKeyEntry], keySources: [JWKSKeySource] = [],
        maxTokenBytes: Int = defaultMaxTokenBytes,
        maxKeyCandidates: Int = defaultMaxKeyCandidates, understoodCriticalHeaders: Set<String> = []
    ) {
        var index: [String: Int] = [:]
        for (position, config) in issuers.enumerated() {
            precondition(index.updateValue(position, forKey: config.issuer) == nil, "duplicate JWT issuer")
        }
        self.issuers = issuers
        self.leewaySeconds = issuers.map { max(0, $0.leeway.components.seconds) }
        self.keys = keys.map { entry in
            guard let position = index[entry.issuer] else { preconditionFailure("JWT key for an unconfigured issuer") }
            return Key(kid: entry.kid, algorithm: entry.verifier.algorithmName, verifier: entry.verifier, issuerIndex: position)
        }
        self.keySources = keySources.map { source in
            guard let position = index[source.issuer] else { preconditionFailure("JWKS source for an unconfigured issuer") }
            return (source, position)
        }
        self.maxTokenBytes = maxTokenBytes
        self.maxKeyCandidates = max(1, maxKeyCandidates)
        self.understoodCriticalHeaders = understoodCriticalHeaders
    }

    /// Verifies `token` (the bearer credential's bytes) at unix time `now` (seconds, injected).
    /// - Returns: the verified token, or the failure whose `reason` goes to the log.
    package func verify(_ token: UnsafeRawBufferPointer, now: Int64) -> Result<VerifiedToken, JWTFailure> {
        do {
            return .success(try check(token, now: now))
        } catch {
            return .failure(error)
        }
    }

    /// Verifies a token held in a byte array; see ``verify(_:now:)-(UnsafeRawBufferPointer,_)``.
    package func verify(_ token: [UInt8], now: Int64) -> Result<VerifiedToken, JWTFailure> {
        token.withUnsafeBytes { verify($0, now: now) }
    }

    // MARK: - Pipeline

    private func check(_ token: UnsafeRawBufferPointer, now: Int64) throws(JWTFailure) -> VerifiedToken {
        guard token.count <= maxTokenBytes else { throw .tooLarge }

        // Compact JWS only: exactly two dots, three non-empty segments (JWE has five).
        var firstDot = -1
        var secondDot = -1
        for position in 0..<token.count where token[position] == UInt8(ascii: ".") {
            if firstDot < 0 {
                firstDot = position
            } else if secondDot < 0 {
                secondDot = position
            } else {
                throw .malformed
            }
        }
        guard firstDot > 0, secondDot > firstDot + 1, secondDot < token.count - 1 else { throw .malformed }

        // Header.
        guard let headerBytes = Base64URL.decode(UnsafeRawBufferPointer(rebasing: token[0..<firstDot])) else {
            throw .malformed
        }
        guard case .success(let header) = JSONParser.parse(headerBytes, maxBytes: maxTokenBytes), header.isObject else {
            throw .malformed
        }
        guard case .string(let alg)? = header["alg"] else { throw .malformed }
        if Self.equalsIgnoringASCIICase(alg, "none") { throw .algNone }
        guard Self.supportedAlgorithms.contains(alg) else { throw .algUnsupported }
        if let crit = header["crit"] { try checkCritical(crit, header: header) }

        // Key selection: the key pins the algorithm.
        let candidates = try candidateKeys(kid: header["kid"], alg: alg)

        // Signature over the ASCII bytes `header.payload`.
        guard let signature = Base64URL.decode(UnsafeRawBufferPointer(rebasing: token[(secondDot + 1)...])) else {
            throw .malformed
        }
        let message = UnsafeRawBufferPointer(rebasing: token[0..<secondDot])
        var verifiedBy: Key? = nil
        signature.withUnsafeBytes { signatureBytes in
            for key in candidates where key.verifier.verify(signature: signatureBytes, message: message) {
                verifiedBy = key
                break
            }
        }
        guard let key = verifiedBy else { throw .badSignature }

        // Only now: the payload.
        guard let payloadBytes = Base64URL.decode(UnsafeRawBufferPointer(rebasing: token[(firstDot + 1)..<secondDot])) else {
            throw .malformed
        }
        guard case .success(let payload) = JSONParser.parse(payloadBytes, maxBytes: maxTokenBytes), payload.isObject else {
            throw .malformed
        }
        return try checkClaims(payload, header: header, key: key, now: now)
    }

    private func checkCritical(_ crit: JSONValue, header: JSONValue) throws(JWTFailure) {
        // RFC 7515 §4.1.11: a non-empty array of names; each must be understood and present.
        guard case .array(let names) = crit, !names.isEmpty else { throw .malformed }
        for name in names {
            guard case .string(let text) = name else { throw .malformed }
            guard understoodCriticalHeaders.contains(text) else { throw .critUnsupported }
            guard header[text] != nil else { throw .malformed }
        }
    }

    private func candidateKeys(kid: JSONValue?, alg: String) throws(JWTFailure) -> [Key] {
        var candidates: [Key] = []
        switch kid {
        case .string(let kid)?:
            var kidKnown = false
            for key in keys where key.kid == kid {
                kidKnown = true
                if key.algorithm == alg, candidates.count < maxKeyCandidates { candidates.append(key) }
            }
            for (source, issuerIndex) in keySources {
                for key in source.currentKeys.keys where key.kid == kid {
                    kidKnown = true
                    if key.algorithm == alg, candidates.count < maxKeyCandidates {
                        candidates.append(Key(kid: key.kid, algorithm: key.algorithm, verifier: key.verifier, issuerIndex: issuerIndex))
                    }
                }
            }
            if candidates.isEmpty {
                if kidKnown { throw .algUnsupported }
                throw unknownKid(kid)
            }
        case nil:
            for key in keys where key.algorithm == alg {
                candidates.append(key)
                if candidates.count == maxKeyCandidates { return candidates }
            }
            for (source, issuerIndex) in keySources {
                for key in source.currentKeys.keys where key.algorithm == alg {
                    candidates.append(Key(kid: key.kid, algorithm: key.algorithm, verifier: key.verifier, issuerIndex: issuerIndex))
                    if candidates.count == maxKeyCandidates { return candidates }
                }
            }
            if candidates.isEmpty { throw .unknownKid }
        default:
            throw .malformed
        }
        return candidates
    }

    /// Tells every key source about a kid nobody has (each decides whether to fetch early).
    /// - Returns: `keyRefreshPending` when a fetch that may bring the kid is on its way.
    /// - Returns: `keyRefreshPending` when a fetch that may bring the kid is on its way;
    ///   `keysUnavailable` when none is and a source's last fetch failed.
    @inline(never)
    private func unknownKid(_ kid: String) -> JWTFailure {
        var pending = false
        for (source, _) in keySources where source.unknownKid(kid) == .refreshPending { pending = true }
        if pending { return .keyRefreshPending }
        return keySourceRetryAfter() == nil ? .unknownKid : .keysUnavailable
    }

    /// While a key source cannot be reached: the seconds until its next fetch (at least 1);
    /// nil when every source answered its last fetch.
    package func keySourceRetryAfter() -> Int? {
        let waits = keySources.compactMap { $0.0.unreachableRetryMilliseconds() }
        return waits.min().map { max(1, Int(($0 + 999) / 1000)) }
    }

    private func checkClaims(_ payload: JSONValue, header: JSONValue, key: Key, now: Int64) throws(JWTFailure) -> VerifiedToken {
        let config = issuers[key.issuerIndex]
        let leeway = leewaySeconds[key.issuerIndex]

        guard case .string(let iss)? = payload["iss"], iss == config.issuer else { throw .badIssuer }

        var expiry: Int64? = nil
        if let value = payload["exp"] {
            // Fractions round down: a token expiring at 100.5 is treated as expiring at 100.
            let exp = try Self.numericDate(value, roundingUp: false)
            guard now < Self.adding(exp, leeway) else { throw .expired }
            expiry = exp
        } else if config.requireExp {
            throw .missingExp
        }
        if let value = payload["nbf"] {
            let nbf = try Self.numericDate(value, roundingUp: true)
            guard nbf <= Self.adding(now, leeway) else { throw .notYetValid }
        }
        var issuedAt: Int64? = nil
        if let value = payload["iat"] {
            let iat = try Self.numericDate(value, roundingUp: true)
            guard iat <= Self.adding(now, leeway) else { throw .issuedInFuture }
            issuedAt = iat
        }

        try Self.checkAudience(payload["aud"], audiences: config.audiences)

        if let required = config.requiredTyp {
            guard case .string(let typ)? = header["typ"], Self.typMatches(typ, required) else { throw .badTyp }
        }

        let mapping = config.claims
        guard let userID = try Self.stringClaim(payload, mapping.userID) else { throw .badClaims }
        var identity = Identity(
            userID: userID,
            orgID: try Self.stringClaim(payload, mapping.orgID),
            email: try Self.stringClaim(payload, mapping.email),
            name: try Self.stringClaim(payload, mapping.name),
            permissions: try Self.listClaim(payload, mapping.permissions),
            roles: try Self.listClaim(payload, mapping.roles),
            method: .jwt,
            keyID: key.kid,
            tokenID: try Self.stringClaim(payload, ["jti"]),
            expiresAt: expiry,
            subject: try Self.stringClaim(payload, ["sub"]),
            issuer: config.issuer)
        if config.bindsAPIKeys {
            identity.exchangedKeyID = try Self.stringClaim(payload, ["key_id"])
            // The gateway's own tokens can be revoked per principal by issue time (SPEC §11);
            // one it signed without `iat` predates any such revocation.
            identity.issuedAt = issuedAt ?? 0
        }
        guard identity.isRepresentableInHeaders else { throw .unrepresentableIdentity }
        let validUntil = expiry.map { Self.adding($0, leeway) - 1 }
        return VerifiedToken(identity: identity, issuer: config.issuer, validUntil: validUntil)
    }

    /// `aud` (a string or an array of strings) names one of `audiences`; absent only when
    /// none is configured.
    static func checkAudience(_ aud: JSONValue?, audiences: [String]) throws(JWTFailure) {
        switch aud {
        case nil:
            guard audiences.isEmpty else { throw .badAudience }
        case .string(let value)?:
            guard audiences.contains(value) else { throw .badAudience }
        case .array(let values)?:
            var matched = false
            for value in values {
                guard case .string(let text) = value else { throw .badClaims }
                if audiences.contains(text) { matched = true }
            }
            guard matched else { throw .badAudience }
        default:
            throw .badClaims
        }
    }

    // MARK: - Helpers

    /// 2^53: larger dates are not exactly representable and far beyond any real expiry.
    private static let maxNumericDate: Double = 9_007_199_254_740_992

    /// A NumericDate (RFC 7519 §2): a JSON number in `0...2^53`; strings, negatives and
    /// anything else are `jwt_bad_claims`.
    static func numericDate(_ value: JSONValue, roundingUp: Bool) throws(JWTFailure) -> Int64 {
        guard case .number(let number, let exact) = value else { throw .badClaims }
        if let exact {
            guard exact >= 0, exact <= 9_007_199_254_740_992 else { throw .badClaims }
            return exact
        }
        guard number.isFinite, number >= 0, number <= maxNumericDate else { throw .badClaims }
        return Int64(number.rounded(roundingUp ? .up : .down))
    }

    private static func adding(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    /// The first present, non-null claim of `names` as a string; `nil` when none is present.
    static func stringClaim(_ payload: JSONValue, _ names: [String]) throws(JWTFailure) -> String? {
        for name in names {
            switch payload[name] {
            case nil, .null?: continue
            case .string(let value)?: return value
            default: throw .badClaims
            }
        }
        return nil
    }

    /// The first present, non-null claim of `names` as a list: an array of strings, or one
    /// space-separated string (OAuth `scope`, RFC 8693 §4.2).
    static func listClaim(_ payload: JSONValue, _ names: [String]) throws(JWTFailure) -> [String] {
        for name in names {
            switch payload[name] {
            case nil, .null?:
                continue
            case .string(let value)?:
                return value.split(separator: " ").map(String.init)
            case .array(let values)?:
                var result: [String] = []
                result.reserveCapacity(values.count)
                for value in values {
                    guard case .string(let text) = value else { throw .badClaims }
                    result.append(text)
                }
                return result
            default:
                throw .badClaims
            }
        }
        return []
    }

    /// ASCII case-insensitive equality, byte by byte (no `lowercased()`).
    static func equalsIgnoringASCIICase(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        var left = a.utf8.makeIterator()
        var right = b.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return true
            case (let x?, let y?):
                if x == y { continue }
                let foldedX = x >= 0x41 && x <= 0x5A ? x | 0x20 : x
                let foldedY = y >= 0x41 && y <= 0x5A ? y | 0x20 : y
                if foldedX != foldedY { return false }
            default: return false
            }
        }
    }

    /// RFC 7515 §4.1.9 / RFC 9068 §4: media types compare case-insensitively and the
    /// `application/` prefix may be omitted (`at+jwt` == `application/at+JWT`).
    static func typMatches(_ typ: String, _ required: String) -> Bool {
        equalsIgnoringASCIICase(stripApplication(typ), stripApplication(required))
    }

    private static func stripApplication(_ value: String) -> Substring {
        let prefix = "application/"
        let utf8 = value.utf8
        guard utf8.count > prefix.utf8.count else { return value[...] }
        let end = value.utf8.index(value.utf8.startIndex, offsetBy: prefix.utf8.count)
        if equalsIgnoringASCIICase(value[value.startIndex..<end], prefix) { return value[end...] }
        return value[...]
    }
}
