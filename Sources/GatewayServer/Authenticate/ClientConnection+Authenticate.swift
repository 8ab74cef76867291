import GatewayCore
import GatewayHTTP
import GatewayStore
import GatewaySupport

/// The result of looking at a request's credentials (SPEC §5).
enum AuthOutcome {
    /// `auth optional;` and no credential: forwarded without identity.
    case anonymous
    /// `renderKey` names the identity for the loop's rendered-header cache.
    case authenticated(Identity, renderKey: IdentityRenderKey)
    /// No credential on a protected route: 401 `unauthorized` with a bare challenge.
    case missing
    /// A credential that fails, whatever the reason: one 401 `invalid_token` (reason logged only).
    case invalid(String)
    /// Two credentials (or one header twice): 400 `invalid_request` (RFC 6750 §2).
    case ambiguous(String)
    /// The JWT's `kid` is unknown and a JWKS fetch that may bring it is pending: wait, retry.
    case keysPending
}

extension ClientConnection {
    /// Finds the request's credential and checks it. The first applicable method decides: a
    /// credential that is present but invalid is never followed by another method.
    /// - Parameter query: the query (without `?`) that `allow_query_token` reads: the
    ///   request's own, or the original request's at the decision endpoint.
    func authenticate(route: CompiledRoute, bytes: UnsafeRawBufferPointer, query: ByteRange?) -> AuthOutcome {
        let apiKeys = runtime.apiKeys
        var authorization: HeaderField? = nil
        var keyHeader: HeaderField? = nil
        for field in head.headers {
            if field.name == .authorization {
                guard authorization == nil else { return .ambiguous("duplicate_authorization") }
                authorization = field
            } else if field.name == .other, let apiKeys, apiKeys.isKeyHeader(field, bytes) {
                guard keyHeader == nil else { return .ambiguous("duplicate_api_key_header") }
                keyHeader = field
            }
        }
        if authorization != nil && keyHeader != nil { return .ambiguous("two_credentials") }
        var queryToken: ByteRange? = nil
        if route.allowQueryToken, let query {
            let values = QueryToken.values(in: query, bytes)
            if values.count > 1 { return .ambiguous("duplicate_query_token") }
            queryToken = values.first
            if queryToken != nil && (authorization != nil || keyHeader != nil) { return .ambiguous("two_credentials") }
        }

        let token: ByteRange
        let isAPIKey: Bool
        let source: Credential.Source
        if let authorization {
            guard let bearer = Self.bearerToken(authorization, bytes) else { return .invalid("authorization_not_bearer") }
            token = bearer
            isAPIKey = apiKeys.map { $0.bearer && $0.hasKeyPrefix(bytes, bearer) } ?? false
            source = .bearer
        } else if let keyHeader {
            token = ByteRange(start: keyHeader.valueStart, count: keyHeader.valueCount)
            isAPIKey = true
            source = .keyHeader
        } else if let queryToken {
            let value = UnsafeRawBufferPointer(rebasing: bytes[queryToken.start..<queryToken.start + queryToken.count])
            guard value.contains(UInt8(ascii: "%")) else {
                return check(value, as: Credential(isAPIKey: apiKeys?.hasKeyPrefix(value) ?? false, source: .query), route: route)
            }
            guard let decoded = QueryToken.decode(value) else { return .invalid("query_token_bad_encoding") }
            return decoded.withUnsafeBytes {
                check($0, as: Credential(isAPIKey: apiKeys?.hasKeyPrefix($0) ?? false, source: .query), route: route)
            }
        } else {
            return route.auth == .optional ? .anonymous : .missing
        }
        return check(
            UnsafeRawBufferPointer(rebasing: bytes[token.start..<token.start + token.count]),
            as: Credential(isAPIKey: isAPIKey, source: source), route: route)
    }

    /// Checks one presented credential against the route's accepted methods, then verifies it.
    /// The memo answers only for the same bytes presented the same way to the same
    /// authenticator: that is everything the full check depends on besides the route's accepted
    /// kinds, which are checked first, on every request.
    private func check(_ presented: UnsafeRawBufferPointer, as credential: Credential, route: CompiledRoute) -> AuthOutcome {
        guard presented.count > 0 else { return .invalid("empty_credential") }
        guard presented.count <= runtime.config.limits.maxTokenBytes else { return .invalid("token_too_large") }
        switch route.auth {
        case .jwtOnly where credential.isAPIKey: return .invalid("api_key_not_accepted")
        case .apiKeyOnly where !credential.isAPIKey: return .invalid("jwt_not_accepted")
        default: break
        }
        let second = WallClock.now()
        let keyGeneration = loop.currentKeyGeneration()
        if let identity = credentialMemo.recall(
            presented, as: credential, second: second, runtimeGeneration: runtime.generation, keyGeneration: keyGeneration) {
            return .authenticated(identity, renderKey: credentialMemo.renderKey)
        }
        let outcome = credential.isAPIKey && runtime.apiKeys != nil
            ? authenticateAPIKey(presented, now: second) : authenticateJWT(presented, now: Int64(second))
        if case .authenticated(let identity, let renderKey) = outcome {
            credentialMemo.remember(
                presented, as: credential, identity: identity, renderKey: renderKey, second: second,
                runtimeGeneration: runtime.generation, keyGeneration: keyGeneration)
        }
        return outcome
    }

    /// Checks an API key against the loop's in-memory index (never SQLite).
    private func authenticateAPIKey(_ presented: UnsafeRawBufferPointer, now: Int) -> AuthOutcome {
        guard let apiKeys = runtime.apiKeys, let index = loop.currentKeyIndex() else { return .invalid("apikey_store_unavailable") }
        switch index.authenticate(presented: presented, prefixes: apiKeys.prefixes, legacyPrefixes: apiKeys.legacyPrefixes, now: now) {
        case .success(let record):
            let identity = Identity(apiKey: record)
            // Keys imported or created before this check may name what no header carries exactly.
            guard identity.isRepresentableInHeaders else { return .invalid("apikey_identity_unrepresentable") }
            loop.noteKeyUsed(record.id)
            return .authenticated(identity, renderKey: .apiKey(record.id))
        case .failure(let failure):
            return .invalid(failure.reason)
        }
    }

    /// Verifies a bearer JWT: a cache hit (keyed by the token's SHA-256, never served past
    /// `exp`) skips the signature check, never the revocation check.
    private func authenticateJWT(_ token: UnsafeRawBufferPointer, now: Int64) -> AuthOutcome {
        guard let jwt = runtime.jwt else { return .invalid("jwt_not_configured") }
        let hash = jwt.cache.map { _ in TokenHash(token: token) }
        let identity: Identity
        if let cache = jwt.cache, let hash, let cached = cache.lookup(hash, now: now) {
            identity = cached
        } else {
            switch jwt.verifier.verify(token, now: now) {
            case .success(let verified):
                if let cache = jwt.cache, let hash { cache.insert(hash, token: verified, now: now) }
                identity = verified.identity
            case .failure(.keyRefreshPending) where keyWaitDeadline == 0 || loop.now < keyWaitDeadline:
                return .keysPending
            case .failure(let failure):
                return .invalid(failure.reason)
            }
        }
        // Revocation is checked on every use, cached or not (the store's index, not SQLite).
        if let jti = identity.tokenID, let index = loop.currentKeyIndex(), index.isTokenRevoked(jti) {
            return .invalid("jwt_revoked")
        }
        return .authenticated(identity, renderKey: hash.map(IdentityRenderKey.token) ?? .none)
    }

    /// The token of `Authorization: Bearer <token>` (scheme case-insensitive, one space, token68
    /// characters only); nil for any other scheme or shape.
    static func bearerToken(_ field: HeaderField, _ bytes: UnsafeRawBufferPointer) -> ByteRange? {
        let scheme = "bearer "
        guard field.valueCount > scheme.utf8.count else { return nil }
        for (offset, expected) in scheme.utf8.enumerated() where HTTPBytes.lowercased(bytes[field.valueStart + offset]) != expected {
            return nil
        }
        let start = field.valueStart + scheme.utf8.count
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

/// What an identity's rendered headers can be cached under (per loop): an API key's id (its
/// identity changes only with the store, which clears the cache) or a JWT's hash (a token's
/// claims never change). `.none`: render per request.
enum IdentityRenderKey: Hashable {
    case none
    case apiKey(String)
    case token(TokenHash)
}

/// `api_keys` resolved for the request path.
struct CompiledAPIKeys: Sendable {
    /// The key header's name, lower-case.
    let headerName: [UInt8]
    let bearer: Bool
    let prefixes: [String]
    let legacyPrefixes: [String]
    private let allPrefixes: [[UInt8]]

    init(_ config: APIKeysConfig) {
        headerName = Array(config.header.lowercased().utf8)
        bearer = config.bearer
        prefixes = config.prefixes
        legacyPrefixes = config.legacyPrefixes
        allPrefixes = (config.prefixes + config.legacyPrefixes).map { Array($0.utf8) }
    }

    func isKeyHeader(_ field: HeaderField, _ bytes: UnsafeRawBufferPointer) -> Bool {
        ByteCompare.nameEquals(field, bytes, headerName)
    }

    func hasKeyPrefix(_ bytes: UnsafeRawBufferPointer, _ token: ByteRange) -> Bool {
        hasKeyPrefix(UnsafeRawBufferPointer(rebasing: bytes[token.start..<token.start + token.count]))
    }

    func hasKeyPrefix(_ token: UnsafeRawBufferPointer) -> Bool {
        allPrefixes.contains { prefix in prefix.count <= token.count && prefix.indices.allSatisfy { token[$0] == prefix[$0] } }
    }
}

extension Identity {
    /// The identity of an API key's principal (SPEC §5).
    init(apiKey record: KeyRecord) {
        self.init(
            userID: record.principalID, orgID: record.orgID, email: nil, name: nil,
            permissions: record.permissions, roles: record.roles, method: .apiKey, keyID: record.id,
            tokenID: nil, expiresAt: record.expiresAt.map(Int64.init), subject: record.principalID)
        rateLimit = record.rateLimit
    }
}
