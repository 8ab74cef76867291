import GatewayCore
import GatewayCrypto
import GatewayHTTP
import GatewayStore
import GatewaySupport
import GatewaySystem

/// Agent self-registration (SPEC §10): `POST /_gateway/register` with the registration token as
/// Bearer and `{"name","owner_email"}` creates an agent principal and its first API key, which
/// the answer holds once.
enum Registration {
    static let path = "/_gateway/register"

    /// What the store worker needs.
    struct Request: Sendable {
        let name: String
        let ownerEmail: String?
        let roles: [String]
        let permissions: [String]
        let keyPrefix: String
        let requestID: String
    }

    /// Reads and checks the body. - Throws: `invalid_request` for anything else.
    static func request(
        body: [UInt8], policy: RegistrationConfig, keyPrefix: String, requestID: String
    ) throws(AdminError) -> Request {
        let fields = try AdminBody(body, allowed: ["name", "owner_email"])
        guard let name = try fields.string("name") else { throw .invalid("\"name\" is required.") }
        let email = try fields.string("owner_email")
        try AdminValidation.identityValues(principal: "agent", orgID: nil, texts: [name, email])
        return Request(
            name: name, ownerEmail: email, roles: policy.roles, permissions: policy.permissions, keyPrefix: keyPrefix,
            requestID: requestID)
    }

    /// On the store thread: the principal (a fresh `agent-…` id), its key, the audit event.
    static func perform(_ request: Request, store: KeyStore) throws(StoreError) -> AdminResponse {
        let id = "agent-" + Base64URL.encode(SecureRandom.bytes(12))
        _ = try store.createPrincipal(id: id, name: request.name, orgID: nil, email: request.ownerEmail)
        let (record, key) = try store.createKey(
            forPrincipal: id, name: request.name, permissions: request.permissions, roles: request.roles, rateLimit: nil,
            expiresAt: nil, prefix: request.keyPrefix)
        try store.appendAudit([AuditEvent(
            time: store.clock(), kind: "agent_registered", outcome: "success", principalID: id, keyID: record.id, actor: "registration",
            detail: "owner \(request.ownerEmail ?? "-")")])
        return AdminResponse(status: 201, body: record.json(key: key))
    }
}

extension ClientConnection {
    /// `POST /_gateway/register`: the token is checked before the body is read.
    func answerRegistration(_ policy: RegistrationConfig) {
        guard request.method == .post else { return reject(.methodNotAllowed(allow: [MethodSet(.post)]), reason: "method_not_allowed") }
        let bytes = input.readableBytes
        let authorization = head.headers.filter { $0.name == .authorization }
        guard authorization.count <= 1 else { return reject(.invalidRequest, reason: "credential_duplicate") }
        var presented: [UInt8]? = nil
        if let field = authorization.first {
            let value = Array(bytes[field.valueStart..<field.valueStart + field.valueCount])
            if value.count > 7, value[0..<7].map(HTTPBytes.lowercased).elementsEqual("bearer ".utf8) { presented = Array(value[7...]) }
        }
        let check = runtime.access.checkRegistration(
            presented: presented, digest: policy.tokenDigest,
            request: AccessRequest(
                method: request.method, query: head.query, headers: head.headers, bytes: bytes, peerAddress: peer.address,
                peerTrusted: runtime.trusts(peer)),
            state: &accessState, clock: AccessClock(now: loop.now, wallSecond: WallClock.now()))
        switch check {
        case .allowed: break
        case .missing: return refuse(.credentialMissing)
        case .refused: return reject(.invalidToken, reason: "registration_token_invalid")
        case .lockedOut(let retryAfter): return refuse(.authFailuresExceeded(retryAfter: retryAfter))
        }
        guard !head.isChunked else { return reject(.invalidRequest, reason: "registration_chunked_body") }
        collectBody(for: .register, limit: AdminBody.maxBytes)
    }

    func registrationBodyReceived(_ body: [UInt8]) {
        guard let policy = runtime.config.registration else { return reject(.routeNotFound, reason: "route_not_found") }
        do throws(AdminError) {
            let registration = try Registration.request(
                body: body, policy: policy, keyPrefix: runtime.config.apiKeys?.prefixes.first ?? APIKeysConfig().prefixes[0],
                requestID: String(decoding: request.id, as: UTF8.self))
            waitForStore(.admin, job: .register(registration))
        } catch {
            answerAdmin(error)
        }
    }
}
