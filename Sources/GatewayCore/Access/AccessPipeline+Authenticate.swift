import GatewayTLS
import GatewaySupport
import GatewayCrypto
package import GatewayHTTP

/// What the authentication stage found (SPEC §5).
enum AuthenticationOutcome {
    /// `auth optional;` and no credential: forwarded without identity.
    case anonymous
    /// `renderKey` names the identity for the loop's rendered-header cache.
    case authenticated(Identity, renderKey: IdentityRenderKey)
    /// Missing (401), ambiguous (400) or failing (401) credentials.
    case refused(DenyReason)
    /// The JWT's `kid` is unknown and a JWKS fetch that may bring it is pending: wait, retry.
    case keysPending
}

extension AccessPipeline {
    /// Finds the request's credential and checks it. The first applicable method decides: a
    /// credential that is present but invalid is never followed by another method.
    func authenticate(
        _ request: AccessRequest, route: CompiledRoute, state: inout AccessState, scratch: AccessScratch, clock: AccessClock
    ) -> AuthenticationOutcome {
        if route.auth == .mtls { return authenticateCertificate(request.peerCertificate) }
        let bytes = request.bytes
        var authorization: HeaderField? = nil
        var keyHeader: HeaderField? = nil
        for field in request.headers {
            if field.name == .authorization {
                guard authorization == nil else { return .refused(.credentialAmbiguous(.duplicateAuthorization)) }
                authorization = field
            } else if field.name == .other, let apiKeys, apiKeys.isKeyHeader(field, bytes) {
                guard keyHeader == nil else { return .refused(.credentialAmbiguous(.duplicateAPIKeyHeader)) }
                keyHeader = field
            }
        }
        if authorization != nil && keyHeader != nil { return .refused(.credentialAmbiguous(.twoCredentials)) }
        var queryToken: ByteRange? = nil
        if route.allowQueryToken, let query = request.query {
            let values = QueryToken.values(in: query, bytes)
            if values.count > 1 { return .refused(.credentialAmbiguous(.duplicateQueryToken)) }
            queryToken = values.first
            if queryToken != nil && (authorization != nil || keyHeader != nil) { return .refused(.credentialAmbiguous(.twoCredentials)) }
        }

        let token: ByteRange
        let credential: Credential
        if let authorization {
            guard let bearer = Self.bearerToken(authorization, bytes) else { return .refused(.credentialInvalid(.notBearer)) }
            token = bearer
            credential = Credential(isAPIKey: apiKeys.map { $0.bearer && $0.hasKeyPrefix(bytes, bearer) } ?? false, source: .bearer)
        } else if let keyHeader {
            token = ByteRange(start: keyHeader.valueStart, count: keyHeader.valueCount)
            credential = Credential(isAPIKey: true, source: .keyHeader)
        } else if let queryToken {
            let value = UnsafeRawBufferPointer(rebasing: bytes[queryToken.start..<queryToken.start + queryToken.count])
            guard value.contains(UInt8(ascii: "%")) else {
                let credential = Credential(isAPIKey: apiKeys?.hasKeyPrefix(value) ?? false, source: .query)
                return check(value, as: credential, request, route: route, state: &state, scratch: scratch, clock: clock)
            }
            guard let decoded = QueryToken.decode(value) else { return .refused(.credentialInvalid(.queryTokenBadEncoding)) }
            return decoded.withUnsafeBytes {
                let credential = Credential(isAPIKey: apiKeys?.hasKeyPrefix($0) ?? false, source: .query)
                return check($0, as: credential, request, route: route, state: &state, scratch: scratch, clock: clock)
            }
        } else {
            return route.auth == .optional ? .anonymous : .refused(.credentialMissing)
        }
        let presented = UnsafeRawBufferPointer(rebasing: bytes[token.start..<token.start + token.count])
        return check(presented, as: credential, request, route: route, state: &state, scratch: scratch, clock: clock)
    }

    /// Checks one presented credential against the route's accepted methods, then verifies it.
    /// The memo answers only for the same bytes presented the same way to the same
    /// authenticator: that is everything the full check depends on besides the route's accepted
    /// kinds, which are checked first, on every request.
    private func check(
        _ presented: UnsafeRawBufferPointer, as credential: Credential, _ request: AccessRequest, route: CompiledRoute,
        state: inout AccessState, scratch: AccessScratch, clock: AccessClock
    ) -> AuthenticationOutcome {
        guard presented.count > 0 else { return .refused(.credentialInvalid(.empty)) }
        guard presented.count <= maxTokenBytes else { return .refused(.credentialInvalid(.tooLarge)) }
        switch route.auth {
        case .jwtOnly where credential.isAPIKey: return .refused(.credentialInvalid(.apiKeyNotAccepted))
        case .apiKeyOnly where !credential.isAPIKey: return .refused(.credentialInvalid(.jwtNotAccepted))
        case .introspection where credential.isAPIKey: return .refused(.credentialInvalid(.apiKeyNotAccepted))
        default: break
        }
        // Introspection answers are cached by the introspector itself (bounded by `exp`), not
        // by the connection's memo.
        if !credential.isAPIKey, let introspector,
           route.auth == .introspection || (route.auth != .jwtOnly && (jwt == nil || !Self.looksLikeJWT(presented))) {
            return introspect(presented, introspector, client: clientAddress(request, &state), state: state, now: Int64(clock.wallSecond))
        }
        let second = clock.wallSecond
        if let identity = state.memo.recall(
            presented, as: credential, second: second, runtimeGeneration: generation, keyGeneration: scratch.keyGeneration) {
            // The use was noted when the key was checked, within this same second.
            return .authenticated(identity, renderKey: state.memo.renderKey)
        }
        let outcome = credential.isAPIKey && apiKeys != nil
            ? authenticateAPIKey(presented, state: &state, scratch: scratch, now: second)
            : authenticateJWT(presented, state: state, scratch: scratch, now: Int64(second))
        if case .authenticated(let identity, let renderKey) = outcome {
            state.memo.remember(
                presented, as: credential, identity: identity, renderKey: renderKey, second: second,
                runtimeGeneration: generation, keyGeneration: scratch.keyGeneration)
        }
        return outcome
    }

    /// `auth mtls`: the certificate the TLS handshake verified is the credential (headers
    /// are not looked at). No certificate is a missing credential (401).
    private func authenticateCertificate(_ certificate: PeerCertificate?) -> AuthenticationOutcome {
        guard let certificate else { return .refused(.credentialMissing) }
        guard let identity = mtls.identity(certificate), identity.isRepresentableInHeaders else {
            return .refused(.credentialInvalid(.certificateIdentityUnrepresentable))
        }
        return .authenticated(identity, renderKey: .certificate(certificate.fingerprint))
    }

    /// An opaque token (or any bearer on an `auth introspection` route): the introspector's
    /// cached answer, or a wait while the worker asks the endpoint. A second wait is not
    /// allowed: an answer still missing then is the endpoint's failure (503), not the token's.
    private func introspect(
        _ token: UnsafeRawBufferPointer, _ introspector: Introspector, client: [UInt8], state: AccessState, now: Int64
    ) -> AuthenticationOutcome {
        let hash = TokenHash(token: token)
        let retryAfter = Int(Introspector.failureTTL)
        switch introspector.lookup(token, hash: hash, client: client, now: now) {
        // Rendered per request: the endpoint's next answer for the same token may grant less,
        // and a token's hash names its verified JWT claims in the render cache.
        case .answered(.active(let identity)): return .authenticated(identity, renderKey: .none)
        case .answered(.inactive): return .refused(.credentialInvalid(.introspectionInactive))
        case .answered(.unavailable), .overloaded: return .refused(.introspectionUnavailable(retryAfter: retryAfter))
        case .pending: return state.keyWaitOver ? .refused(.introspectionUnavailable(retryAfter: retryAfter)) : .keysPending
        }
    }

    /// Three non-empty dot-separated parts: a JWS compact serialization's shape (RFC 7515 §7.1).
    static func looksLikeJWT(_ token: UnsafeRawBufferPointer) -> Bool {
        var dots = 0
        var previous = UInt8(ascii: ".")
        for byte in token {
            if byte == UInt8(ascii: ".") {
                if previous == UInt8(ascii: ".") { return false }
                dots += 1
            }
            previous = byte
        }
        return dots == 2 && previous != UInt8(ascii: ".")
    }

    /// Checks an API key against the loop's in-memory index (never SQLite).
    private func authenticateAPIKey(
        _ presented: UnsafeRawBufferPointer, state: inout AccessState, scratch: AccessScratch, now: Int
    ) -> AuthenticationOutcome {
        guard let apiKeys, let index = scratch.keyIndex else { return .refused(.credentialInvalid(.apiKeyStoreUnavailable)) }
        switch index.authenticate(presented: presented, prefixes: apiKeys.prefixes, legacyPrefixes: apiKeys.legacyPrefixes, now: now) {
        case .success(let record):
            let identity = Identity(apiKey: record)
            // Keys imported or created before this check may name what no header carries exactly.
            guard identity.isRepresentableInHeaders else { return .refused(.credentialInvalid(.apiKeyIdentityUnrepresentable)) }
            state.usedKeyID = record.id
            return .authenticated(identity, renderKey: .apiKey(record.id))
        case .failure(let failure):
            return .refused(.credentialInvalid(.apiKey(failure)))
        }
    }

    /// Verifies a bearer JWT: a cache hit (keyed by the token's SHA-256, never served past
    /// `exp`) skips the signature check, never the revocation check.
    private func authenticateJWT(
        _ token: UnsafeRawBufferPointer, state: AccessState, scratch: AccessScratch, now: Int64
    ) -> AuthenticationOutcome {
        guard let jwt else { return .refused(.credentialInvalid(.jwtNotConfigured)) }
        let hash = jwt.cache.map { _ in TokenHash(token: token) }
        var identity: Identity
        if let cache = jwt.cache, let hash, let cached = cache.lookup(hash, now: now) {
            scratch.jwtCache.add(AccessScratch.jwtCacheHit)
            identity = cached
        } else {
            if jwt.cache != nil { scratch.jwtCache.add(AccessScratch.jwtCacheMiss) }
            switch jwt.verifier.verify(token, now: now) {
            case .success(let verified):
                if let cache = jwt.cache, let hash { cache.insert(hash, token: verified, now: now) }
                identity = verified.identity
            case .failure(.keyRefreshPending) where !state.keyWaitOver:
                return .keysPending
            case .failure(.keysUnavailable), .failure(.keyRefreshPending):
                // The key source did not bring the kid in time (down, or still fetching).
                return .refused(.keysUnavailable(retryAfter: jwt.verifier.keySourceRetryAfter() ?? 1))
            case .failure(let failure):
                return .refused(.credentialInvalid(.jwt(failure)))
            }
        }
        // Revocation is checked on every use, cached or not (the store's index, not SQLite).
        if let jti = identity.tokenID, let index = scratch.keyIndex, index.isTokenRevoked(jti) {
            return .refused(.credentialInvalid(.jwtRevoked))
        }
        // A token exchanged for an API key ends with the key (fail closed without a key index).
        if let keyID = identity.exchangedKeyID {
            guard let key = scratch.keyIndex?.usableKey(id: keyID, now: Int(now)) else {
                return .refused(.credentialInvalid(.jwtRevoked))
            }
            identity.rateLimit = key.rateLimit   // it spends the key's bucket
        }
        if let issuedAt = identity.issuedAt, let subject = identity.subject,
           let before = scratch.keyIndex?.tokensRevokedBefore(principal: subject), issuedAt < Int64(before) {
            return .refused(.credentialInvalid(.jwtRevoked))
        }
        return .authenticated(identity, renderKey: hash.map(IdentityRenderKey.token) ?? .none)
    }

    /// The token of `Authorization: Bearer <token>` (scheme case-insensitive, one space, token68
    /// characters only); nil for any other scheme or shape.
    package static func bearerToken(_ field: HeaderField, _ bytes: UnsafeRawBufferPointer) -> ByteRange? {
        let schemeLength = 7   // "bearer "
        guard field.valueCount > schemeLength,
              HTTPBytes.hasLowercasePrefix(bytes, field.valueStart, field.valueCount, "bearer ") else { return nil }
        let start = field.valueStart + schemeLength
        let end = field.valueStart + field.valueCount
        var i = start
        while i < end, isToken68(bytes[i]) { i &+= 1 }
        return i == end ? ByteRange(start: start, count: end - start) : nil
    }

    /// token68 (RFC 9110 §11.2): `A-Z a-z 0-9 - . _ ~ + / =`, as two 64-bit masks.
    private static let token68Low: UInt64 = (1 << 0x2B) | (1 << 0x2D) | (1 << 0x2E) | (1 << 0x2F) | (0x3FF << 0x30) | (1 << 0x3D)
    private static let token68High: UInt64 = (0x3FF_FFFF << 1) | (1 << 0x1F) | (0x3FF_FFFF << 0x21) | (1 << 0x3E)

    @inline(__always)
    private static func isToken68(_ b: UInt8) -> Bool {
        b < 0x40 ? (token68Low >> UInt64(b)) & 1 == 1 : b < 0x80 && (token68High >> UInt64(b - 0x40)) & 1 == 1
    }
}
