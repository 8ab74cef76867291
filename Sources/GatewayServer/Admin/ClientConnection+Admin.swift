import GatewayCore
import GatewayHTTP
import GatewayStore
import GatewaySupport
import GatewaySystem
import Synchronization

extension ClientConnection {
    /// The admin listener (SPEC §11, §15): health, readiness, metrics, the OpenAPI document,
    /// and the admin API, which needs a credential with `admin:read` (GET, HEAD) or
    /// `admin:write` (every other method). Health, readiness and metrics need none, like
    /// nginx's `stub_status` or Envoy's admin `/stats`: bind the admin listener privately.
    func answerAdminListener() {
        let path = loop.access.path
        let probe: AdminProbe? =
            path.elementsEqual("/healthz".utf8) ? .health : path.elementsEqual("/readyz".utf8) ? .readiness
            : path.elementsEqual("/metrics".utf8) && runtime.config.metrics ? .metrics : nil
        if let probe {
            guard request.method == .get || request.method == .head else {
                return reject(.methodNotAllowed(allow: [MethodSet(.get), MethodSet(.head)]), reason: "method_not_allowed")
            }
            return answerProbe(probe)
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

    private func answerProbe(_ probe: AdminProbe) {
        let text: StaticString = "text/plain; charset=utf-8"
        switch probe {
        case .health:
            answer(.response(status: 200, contentType: text, body: Array("ok\n".utf8)), reason: "")
        case .readiness:
            let problems = Readiness.problems(loop: loop, runtime: runtime)
            if problems.isEmpty { return answer(.response(status: 200, contentType: text, body: Array("ready\n".utf8)), reason: "") }
            let body = problems.map { "not ready: \($0)\n" }.joined()
            answer(.response(status: 503, contentType: text, body: Array(body.utf8)), reason: "not_ready", extraHeaders: Self.noStore)
        case .metrics:
            let format = MetricsFormat(accept: (headerText("accept") ?? "").utf8)
            let snapshot = MetricsSnapshot(
                openConnections: loop.shared.openConnections.load(ordering: .relaxed),
                accessLogDropped: loop.shared.accessLog?.droppedLines.load(ordering: .relaxed) ?? 0, process: ProcessStats.current())
            let body = MetricsPage.render(loop.shared.metrics, snapshot, format: format)
            answer(.response(status: 200, contentType: format.contentType, body: body), reason: "", extraHeaders: Self.noStore)
        }
    }

    /// The whole body of an admin request arrived: the store worker runs it.
    func adminBodyReceived(_ body: [UInt8]) {
        let bytes = input.readableBytes
        // The loop's access scratch served other connections while the body arrived: the path
        // is this request's again only once normalized again (it was valid the first time).
        guard normalizePath(head.path, bytes, refusal: { refuse($0) }) else { return }
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

/// The admin listener's unauthenticated endpoints.
enum AdminProbe {
    /// `/healthz`: the process answers.
    case health
    /// `/readyz`: it can serve (`Readiness`).
    case readiness
    /// `/metrics`: Prometheus exposition.
    case metrics
}
