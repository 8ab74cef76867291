import GatewayCore
import GatewayHTTP
import GatewayStore
import GatewaySupport
import GatewaySystem

extension ClientConnection {
    /// The admin listener (SPEC §11): health, the OpenAPI document, and the admin API, which
    /// needs a credential with `admin:read` (GET, HEAD) or `admin:write` (every other method).
    func answerAdminListener() {
        let path = loop.access.path
        if path.elementsEqual("/healthz".utf8) || path.elementsEqual("/readyz".utf8) {
            guard request.method == .get || request.method == .head else {
                return reject(.methodNotAllowed(allow: [MethodSet(.get), MethodSet(.head)]), reason: "method_not_allowed")
            }
            // Ready: accepting requests (not draining).
            if path.elementsEqual("/readyz".utf8) && loop.isDraining {
                return answer(.response(status: 503, contentType: "text/plain; charset=utf-8", body: Array("draining\n".utf8)), reason: "draining")
            }
            return answer(.response(status: 200, contentType: "text/plain; charset=utf-8", body: Array("ok\n".utf8)), reason: "")
        }
        if path.elementsEqual(AdminOpenAPI.path.utf8) { return answerPublishedDocument(AdminOpenAPI.document) }
        guard path.starts(with: "/admin/".utf8) else { return reject(.routeNotFound, reason: "route_not_found") }

        switch decideAccess(AccessRequest(
            method: request.method, query: head.query, headers: head.headers, bytes: input.readableBytes, peerAddress: peer.address,
            peerTrusted: runtime.trusts(peer)), admin: true)
        {
        case .allow: break
        case .waitForKeys: return waitForKeys()
        case .refuse(let reason): return refuse(reason)
        }
        guard !head.isChunked else { return reject(.invalidRequest, reason: "admin_chunked_body") }
        collectBody(for: .admin, limit: AdminBody.maxBytes)
    }

    /// The whole body of an admin request arrived: the store worker runs it.
    func adminBodyReceived(_ body: [UInt8]) {
        let bytes = input.readableBytes
        let query = head.query.map { Array(bytes[$0.start..<$0.start + $0.count]) } ?? []
        let identity = request.access.identity
        let actor = identity.map { $0.method == .apiKey ? "api_key:\($0.keyID ?? "")" : "jwt:\($0.userID)" } ?? ""
        var adminRequest = AdminRequest(
            method: request.method, path: String(decoding: loop.access.path, as: UTF8.self), query: query, body: body, actor: actor,
            keyPrefix: runtime.config.apiKeys?.prefixes.first ?? APIKeysConfig().prefixes[0])
        adminRequest.requestID = String(decoding: request.id, as: UTF8.self)
        waitForStore(.admin, job: .admin(adminRequest))
    }

    func adminStoreJobFinished(_ result: StoreJobResult) {
        guard case .admin(let response) = result else { return answerAdmin(AdminError.unavailable) }
        answerAdmin(response)
    }

    func answerAdmin(_ error: AdminError) {
        answerAdmin(error.response(requestID: String(decoding: request.id, as: UTF8.self)))
    }

    /// Writes an admin API answer (`no-store`: listings and new keys must not be cached).
    func answerAdmin(_ response: AdminResponse) {
        var headers = Self.noStore
        if let allow = response.allow { headers += Array("Allow: \(allow.allowHeaderValue)\r\n".utf8) }
        let reason = response.status >= 400 ? "admin_\(response.status)" : ""
        answer(.response(status: response.status, contentType: "application/json", body: response.body), reason: reason, extraHeaders: headers)
    }
}
