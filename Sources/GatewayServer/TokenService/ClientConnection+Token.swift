import GatewayCore
import GatewayHTTP
import GatewayStore
import GatewaySupport
import GatewaySystem

/// The token service's endpoints on the public listener (SPEC §10).
enum TokenEndpoint {
    case token, revoke, jwks, metadata

    /// Checked for every request when `tokens` is configured: compared against bytes made once,
    /// not arrays built per request.
    init?(path: [UInt8]) {
        guard path.count > 2, path[1] == UInt8(ascii: "_") || path[1] == UInt8(ascii: ".") else { return nil }
        guard let match = Self.paths.first(where: { $0.bytes == path }) else { return nil }
        self = match.endpoint
    }

    private static let paths: [(bytes: [UInt8], endpoint: TokenEndpoint)] = [
        (Array(TokenServiceDocuments.tokenPath.utf8), .token), (Array(TokenServiceDocuments.revokePath.utf8), .revoke),
        (Array(TokenServiceDocuments.jwksPath.utf8), .jwks), (Array(TokenServiceDocuments.metadataPath.utf8), .metadata),
    ]
}

extension ClientConnection {
    /// Answers a token-service request. The published documents are answered at once; a
    /// token or revocation request first needs its whole body (at most 16 KiB), then the
    /// store (off the loop, `StoreWorker`).
    func answerTokenService(_ endpoint: TokenEndpoint, documents: TokenServiceDocuments) {
        switch endpoint {
        case .jwks, .metadata:
            answerPublishedDocument(endpoint == .jwks ? documents.jwks : documents.metadata)
        case .token, .revoke:
            guard head.method == .post else { return reject(.methodNotAllowed(allow: [MethodSet(.post)]), reason: "method_not_allowed") }
            guard !head.isChunked else { return answerOAuth(.invalidRequest("Send the body with Content-Length."), close: true) }
            guard (head.contentLength ?? 0) <= OAuthParameters.maxBodyBytes else {
                return answerOAuth(.invalidRequest("The request body is too large."), close: true)
            }
            collectBody(for: endpoint == .token ? .token : .revoke, limit: OAuthParameters.maxBodyBytes)
        }
    }

    /// A published JSON document (JWKS, RFC 8414 or RFC 9728 metadata): GET or HEAD only.
    func answerPublishedDocument(_ body: [UInt8]) {
        guard head.method == .get || head.method == .head else {
            return reject(.methodNotAllowed(allow: [MethodSet(.get), MethodSet(.head)]), reason: "method_not_allowed")
        }
        answer(.response(status: 200, contentType: "application/json", body: body), reason: "", extraHeaders: Self.shortCache)
    }

    /// The whole body of a token or revocation request arrived.
    func tokenBodyReceived(_ body: [UInt8], token: Bool) {
        do throws(OAuthError) {
            let parameters = try OAuthParameters.parse(contentType: headerText("content-type"), body: body)
            if token { try handleTokenRequest(parameters) } else { handleRevocation(parameters) }
        } catch {
            answerOAuth(error)
        }
    }

    /// `grant_type=client_credentials` or `refresh_token`.
    private func handleTokenRequest(_ parameters: OAuthParameters) throws(OAuthError) {
        guard let tokens = runtime.config.tokens else { throw .unsupportedGrantType }
        let refreshTTL = Int(tokens.refreshTTL.components.seconds)
        switch parameters["grant_type"] {
        case "client_credentials":
            guard case .key(let record, let permissions) = try authenticatedClient(parameters) else { return }
            let scope = try ScopeGrant.grant(parameters["scope"], from: permissions)
            waitForStore(.clientCredentials(record, scope: scope), job: .issueRefresh(
                keyID: record.id, principalID: record.principalID, scope: scope,
                ttl: refreshTTL, familyTTL: Int(tokens.refreshFamilyTTL.components.seconds)))
        case "refresh_token":
            guard let token = parameters["refresh_token"], !token.isEmpty else {
                throw .invalidRequest("refresh_token is required.")
            }
            // The refresh token alone is the credential; a client that authenticates as well
            // must be the key the token came from.
            let client = try authenticatedClient(parameters, required: false)
            let clientKeyID: String?
            switch client {
            case .answered: return
            case .none: clientKeyID = nil
            case .key(let record, _): clientKeyID = record.id
            }
            waitForStore(.refresh, job: .rotateRefresh(token: token, ttl: refreshTTL, clientKeyID: clientKeyID))
        case nil:
            throw .invalidRequest("grant_type is required.")
        default:
            throw .unsupportedGrantType
        }
    }

    /// Who the client of a token request is (SPEC §10).
    private enum TokenClient {
        /// It presented no client authentication (allowed with `required: false`).
        case none
        /// Its API key, and the key's effective permissions.
        case key(KeyRecord, PermissionSet)
        /// Its address is locked out (`auth_failure_limit`): answered with 429 already.
        case answered
    }

    /// Authenticates the client with the same key index and failure accounting as every
    /// other request. - Throws: `invalid_client` when it fails (or is missing and `required`).
    private func authenticatedClient(_ parameters: OAuthParameters, required: Bool = true) throws(OAuthError) -> TokenClient {
        let client: ClientAuthentication
        do {
            client = try ClientAuthentication.resolve(
                authorization: headerText("authorization"), apiKeyHeader: headerText(runtime.apiKeyHeaderName), parameters: parameters)
        } catch {
            guard case .invalidClient = error else { throw error }
            let check = runtime.access.refuseUnreadableClient(
                "client_credentials_unreadable", request: accessRequest(), state: &accessState,
                clock: AccessClock(now: loop.now, wallSecond: WallClock.now()))
            if case .lockedOut(let retryAfter) = check {
                refuse(.authFailuresExceeded(retryAfter: retryAfter))
                return .answered
            }
            request.logReason = "client_credentials_unreadable"
            throw error
        }
        let key: String
        let clientID: String?
        switch client {
        case .none:
            if required { throw .invalidClient(basic: false) }
            return .none
        case .apiKey(let presented): (key, clientID) = (presented, nil)
        case .client(let id, let secret, _): (key, clientID) = (secret, id)
        }
        loop.refreshKeyIndex()
        let check = runtime.access.authenticateClient(
            key: key, clientID: clientID, request: accessRequest(), state: &accessState, scratch: loop.access,
            clock: AccessClock(now: loop.now, wallSecond: WallClock.now()))
        switch check {
        case .lockedOut(let retryAfter):
            refuse(.authFailuresExceeded(retryAfter: retryAfter))   // gateway errors are no-store already
            return .answered
        case .rateLimited(let retryAfter):
            refuse(.rateLimited(retryAfter: retryAfter))
            return .answered
        case .refused(let reason):
            request.logReason = reason
            throw .invalidClient(basic: client.usedBasic)
        case .authenticated(let record, let permissions):
            loop.noteKeyUsed(record.id)
            return .key(record, permissions)
        }
    }

    /// RFC 7009: a refresh token ends its family, an access token of the gateway's own is
    /// revoked by `jti`; anything else is answered 200 as well.
    private func handleRevocation(_ parameters: OAuthParameters) {
        guard let token = parameters["token"], !token.isEmpty else { return answerOAuth(.invalidRequest("token is required.")) }
        if token.hasPrefix(KeyStore.refreshTokenPrefix) {
            return waitForStore(.revoke, job: .revokeRefresh(token: token))
        }
        if let issuer = runtime.tokens?.issuer,
           let own = runtime.access.ownAccessToken(token, issuer: issuer, now: Int64(WallClock.now())) {
            return waitForStore(.revoke, job: .revokeAccessToken(jti: own.jti, expiresAt: own.expiresAt))
        }
        answerRevoked()
    }

    /// The store's answer to a parked token or revocation request.
    func tokenStoreJobFinished(_ wait: StoreWait, _ result: StoreJobResult) {
        switch (wait, result) {
        case (_, .failed):
            answerOAuthUnavailable()
        case (.revoke, _):
            answerRevoked()
        case (.clientCredentials(let record, let scope), .issued(let grant)):
            issueAccessToken(key: record, scope: scope, refresh: grant, grantType: "client_credentials")
        case (.refresh, .rotation(.rotated(let grant, let key))):
            // The successor never carries more than the key still grants.
            let permissions = runtime.access.roles.resolve(Identity(apiKey: key)).permissions
            issueAccessToken(
                key: key, scope: grant.scope.filter { ScopeGrant.covers(permissions, $0) }, refresh: grant, grantType: "refresh_token")
        case (.refresh, .rotation(.reused)):
            request.logReason = "refresh_reuse"
            answerOAuth(.invalidGrant)
        case (.refresh, .rotation(.invalid(let reason))):
            request.logReason = reason
            answerOAuth(.invalidGrant)
        default:
            answerOAuthUnavailable()
        }
    }

    private func issueAccessToken(key: KeyRecord, scope: [String], refresh: RefreshGrant, grantType: String) {
        guard let issuer = runtime.tokens else { return answerOAuthUnavailable() }
        var claims = AccessTokenClaims(subject: key.principalID, clientID: key.id, lifetime: issuer.accessTTL)
        claims.permissions = scope
        claims.orgID = key.orgID
        claims.keyID = key.id
        let accessToken: String
        do {
            accessToken = try issuer.accessToken(claims, now: Int64(WallClock.now()))
        } catch {
            return answerOAuthUnavailable()
        }
        var body = JSONObjectWriter()
        body.string("access_token", accessToken)
        body.string("token_type", "Bearer")
        body.integer("expires_in", issuer.accessTTL.components.seconds)
        body.string("refresh_token", refresh.token)
        body.string("scope", scope.joined(separator: " "))
        loop.submitAudit([AuditEvent(
            time: WallClock.now(), kind: "token_issued", outcome: "success", principalID: key.principalID, keyID: key.id,
            detail: grantType)])
        answer(.response(status: 200, contentType: "application/json", body: body.finished()), reason: "", extraHeaders: Self.noStore)
    }

    private func answerRevoked() {
        answer(.response(status: 200, contentType: "application/json", body: Array("{}".utf8)), reason: "", extraHeaders: Self.noStore)
    }

    /// An RFC 6749 §5.2 error with `Cache-Control: no-store` (and a Basic challenge when the
    /// client tried Basic).
    func answerOAuth(_ error: OAuthError, close: Bool = false) {
        var body = JSONObjectWriter()
        body.string("error", error.code)
        body.string("error_description", error.description)
        body.string("request_id", String(decoding: request.id, as: UTF8.self))
        var headers = Self.noStore
        if case .invalidClient(basic: true) = error { headers += Array("WWW-Authenticate: Basic realm=\"gateway\"\r\n".utf8) }
        if request.logReason.isEmpty { request.logReason = error.code }
        answer(.response(status: error.status, contentType: "application/json", body: body.finished()), reason: request.logReason,
               extraHeaders: headers, close: close)
    }

    func answerOAuthUnavailable() {
        var body = JSONObjectWriter()
        body.string("error", "temporarily_unavailable")
        body.string("error_description", "The token store is unavailable; try again.")
        body.string("request_id", String(decoding: request.id, as: UTF8.self))
        answer(.response(status: 503, contentType: "application/json", body: body.finished()), reason: "store_unavailable",
               extraHeaders: Self.noStore + Array("Retry-After: 1\r\n".utf8))
    }

    /// The published documents change only with a reload (a key rotation): verifiers may
    /// cache them briefly.
    private static let shortCache = Array("Cache-Control: public, max-age=300\r\n".utf8)
    static let noStore = Array("Cache-Control: no-store\r\nPragma: no-cache\r\n".utf8)

    /// The request as the pipeline sees it (for the failure count by client address).
    private func accessRequest() -> AccessRequest {
        AccessRequest(
            method: head.method, query: head.query, headers: head.headers, bytes: input.readableBytes, peerAddress: peer.address,
            peerTrusted: runtime.trusts(peer))
    }
}
