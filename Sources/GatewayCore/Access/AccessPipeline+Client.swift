import GatewayCrypto

/// What the token endpoint's client authentication found.
package enum ClientCheck: Equatable {
    /// The key, and its effective permissions (roles expanded).
    case authenticated(KeyRecord, permissions: PermissionSet)
    /// The client address used up its failed authentications (`auth_failure_limit`).
    case lockedOut(retryAfter: Int)
    /// No such key, a wrong secret, a revoked or expired key, or a `client_id` that is not the
    /// key's id. Counted toward `auth_failure_limit`; `reason` is for the log.
    case refused(reason: String)
    /// The key's bucket is empty (its stored limit, else the default one): 429.
    case rateLimited(retryAfter: Int)
}

extension AccessPipeline {
    /// Authenticates the client of a token request (SPEC §10) with the same in-memory key index
    /// and failure accounting as every other request: a lock-out is checked first, and a
    /// failure counts toward `auth_failure_limit`.
    /// - Parameters:
    ///   - key: the whole API key the client presented.
    ///   - clientID: the `client_id` it claimed (must be the key's id), or nil.
    ///   - request: the token request (its peer address keys the failure count).
    package func authenticateClient(
        key: String, clientID: String?, request: AccessRequest, state: inout AccessState, scratch: AccessScratch,
        clock: AccessClock
    ) -> ClientCheck {
        state.beginRequest()
        if let retryAfter = lockedOut(request, &state, clock) { return .lockedOut(retryAfter: retryAfter) }
        let outcome = check(key: key, clientID: clientID, scratch: scratch, now: Int(clock.wallSecond))
        if case .refused = outcome { countAuthFailure(request, &state, clock) }
        if case .authenticated(let record, _) = outcome {
            state.usedKeyID = record.id
            if let retryAfter = spendKeyBucket(record, clock) { return .rateLimited(retryAfter: retryAfter) }
        }
        return outcome
    }

    /// Client credentials that cannot even be read (a malformed Basic value, another scheme, a
    /// `client_id` that contradicts them): refused like a wrong secret, so they count toward
    /// `auth_failure_limit` and a locked-out address gets its 429 rather than a 401.
    package func refuseUnreadableClient(
        _ reason: String, request: AccessRequest, state: inout AccessState, clock: AccessClock
    ) -> ClientCheck {
        state.beginRequest()
        if let retryAfter = lockedOut(request, &state, clock) { return .lockedOut(retryAfter: retryAfter) }
        countAuthFailure(request, &state, clock)
        return .refused(reason: reason)
    }

    private func check(key: String, clientID: String?, scratch: AccessScratch, now: Int) -> ClientCheck {
        guard let apiKeys, let index = scratch.keyIndex else { return .refused(reason: "apikey_store_unavailable") }
        switch index.authenticate(presented: Array(key.utf8), prefixes: apiKeys.prefixes, legacyPrefixes: apiKeys.legacyPrefixes, now: now) {
        case .success(let record):
            if let clientID, clientID != record.id { return .refused(reason: "client_id_mismatch") }
            let identity = Identity(apiKey: record)
            guard identity.isRepresentableInHeaders else { return .refused(reason: "apikey_identity_unrepresentable") }
            return .authenticated(record, permissions: roles.resolve(identity).permissions)
        case .failure(let failure):
            return .refused(reason: "apikey_\(failure.reason)")
        }
    }
}

extension AccessPipeline {
    /// An access token of the gateway's own (`issuer`) whose signature verifies: its `jti` and
    /// when its revocation may be forgotten (its `exp`). RFC 7009: holding the token is enough
    /// to revoke it, so an expired one still names its `jti`; nil for anything else.
    package func ownAccessToken(_ token: String, issuer: String, now: Int64) -> (jti: String, expiresAt: Int)? {
        guard let jwt, case .success(let verified) = jwt.verifier.verify(Array(token.utf8), now: now),
              verified.issuer == issuer, let jti = verified.identity.tokenID
        else { return nil }
        return (jti, Int(verified.identity.expiresAt ?? now + 86_400))
    }
}

/// What agent self-registration's token check found (SPEC §10).
package enum RegistrationCheck: Equatable {
    case allowed
    /// No Bearer token: 401 `unauthorized`, not counted as a failure.
    case missing
    /// A wrong token: 401 `invalid_token`, counted toward `auth_failure_limit`.
    case refused
    case lockedOut(retryAfter: Int)
}

extension AccessPipeline {
    /// Checks the registration token presented as Bearer against the configured one's digest,
    /// in constant time, behind the same failure gate as every credential.
    package func checkRegistration(
        presented: [UInt8]?, digest: [UInt8], request: AccessRequest, state: inout AccessState, clock: AccessClock
    ) -> RegistrationCheck {
        state.beginRequest()
        if let retryAfter = lockedOut(request, &state, clock) { return .lockedOut(retryAfter: retryAfter) }
        guard let presented, !presented.isEmpty else { return .missing }
        guard ConstantTime.equals(Digest.sha256(presented), digest) else {
            countAuthFailure(request, &state, clock)
            return .refused
        }
        return .allowed
    }
}
