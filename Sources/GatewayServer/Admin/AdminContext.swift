import GatewayCore
import GatewayHTTP
import GatewayStore
import GatewaySupport

/// One admin request's handlers (SPEC §11): validation, the store call, the audit event and
/// the JSON answer. Listings are paged by cursor (`limit`, `cursor` → `next_cursor`).
struct AdminContext {
    let request: AdminRequest
    let store: KeyStore

    // MARK: Dispatch

    typealias Handler = () throws(AdminError) -> AdminResponse

    /// Runs the handler of the request's method; 405 with the allowed ones otherwise.
    func dispatch(
        get: Handler? = nil, post: Handler? = nil, patch: Handler? = nil, delete: Handler? = nil
    ) throws(AdminError) -> AdminResponse {
        let handlers: [(HTTPMethod, Handler?)] = [(.get, get), (.post, post), (.patch, patch), (.delete, delete)]
        let method = request.method == .head ? .get : request.method
        if let handler = handlers.first(where: { $0.0 == method })?.1 { return try handler() }
        var allow = MethodSet()
        for (method, handler) in handlers where handler != nil { allow.formUnion(MethodSet(method)) }
        if get != nil { allow.formUnion(MethodSet(.head)) }
        throw .methodNotAllowed(allow)
    }

    // MARK: Principals

    func listPrincipals() throws(AdminError) -> AdminResponse {
        let page = try Page(request.query)
        let principals = try run { () throws(StoreError) in try store.listPrincipals(after: page.cursor, limit: page.limit + 1) }
        return page.answer(principals, cursor: \.id) { $0.json() }
    }

    func createPrincipal() throws(AdminError) -> AdminResponse {
        let body = try AdminBody(request.body, allowed: ["id", "name", "org_id", "email"])
        guard let id = try body.string("id") else { throw .invalid("\"id\" is required.") }
        try AdminValidation.identifier(id, "id")
        let name = try body.string("name"), orgID = try body.string("org_id"), email = try body.string("email")
        try AdminValidation.identityValues(principal: id, orgID: orgID, texts: [name, email])
        let record = try run { () throws(StoreError) in try store.createPrincipal(id: id, name: name, orgID: orgID, email: email) }
        try audit("admin_principal_create", principal: id)
        return AdminResponse(status: 201, body: record.json())
    }

    func getPrincipal(_ id: String) throws(AdminError) -> AdminResponse {
        guard let record = try run({ () throws(StoreError) in try store.principal(id: id) }) else { throw Self.noPrincipal }
        return AdminResponse(status: 200, body: record.json())
    }

    func patchPrincipal(_ id: String) throws(AdminError) -> AdminResponse {
        let body = try AdminBody(request.body, allowed: ["name", "org_id", "email"])
        var patch = PrincipalPatch()
        patch.name = try body.nullableString("name")
        patch.orgID = try body.nullableString("org_id")
        patch.email = try body.nullableString("email")
        try AdminValidation.identityValues(principal: id, orgID: patch.orgID ?? nil, texts: [patch.name ?? nil, patch.email ?? nil])
        let record = try run { () throws(StoreError) in try store.updatePrincipal(id: id, patch) }
        try audit("admin_principal_update", principal: id)
        return AdminResponse(status: 200, body: record.json())
    }

    func deletePrincipal(_ id: String) throws(AdminError) -> AdminResponse {
        let revoked = try run { () throws(StoreError) in try store.deletePrincipal(id: id) }
        try audit("admin_principal_delete", principal: id, detail: "\(revoked) keys revoked")
        var out = JSONObjectWriter()
        out.string("id", id)
        out.bool("deleted", true)
        out.integer("keys_revoked", Int64(revoked))
        return AdminResponse(status: 200, body: out.finished())
    }

    // MARK: Keys

    func listKeys(principal: String?) throws(AdminError) -> AdminResponse {
        let page = try Page(request.query, extra: principal == nil ? ["principal_id", "active"] : ["active"])
        var filter = KeyFilter()
        filter.principalID = principal ?? page.parameters["principal_id"]
        if let active = page.parameters["active"] {
            guard active == "true" || active == "false" else { throw .invalid("\"active\" is true or false.") }
            filter.active = active == "true"
        }
        filter.after = page.cursor
        filter.limit = page.limit + 1
        if let principal, try run({ () throws(StoreError) in try store.principal(id: principal) }) == nil { throw Self.noPrincipal }
        let keys = try run { () throws(StoreError) in try store.listKeys(filter) }
        return page.answer(keys, cursor: \.id) { $0.json() }
    }

    func createKey(principal: String) throws(AdminError) -> AdminResponse {
        let body = try AdminBody(request.body, allowed: ["name", "permissions", "roles", "rate_limit", "expires_at"])
        guard let name = try body.string("name"), !name.isEmpty, name.utf8.count <= 256 else {
            throw .invalid("\"name\" is required (1 to 256 bytes).")
        }
        let permissions = try body.strings("permissions") ?? [], roles = try body.strings("roles") ?? []
        try AdminValidation.identityValues(principal: principal, orgID: nil, permissions: permissions, roles: roles, texts: [name])
        let rateLimit = try body.string("rate_limit")
        try AdminValidation.rate(rateLimit)
        let expiresAt = try body.integer("expires_at")
        try AdminValidation.time(expiresAt, "expires_at")
        let (record, key) = try run { () throws(StoreError) in
            try store.createKey(
                forPrincipal: principal, name: name, permissions: permissions, roles: roles, rateLimit: rateLimit,
                expiresAt: expiresAt, prefix: request.keyPrefix)
        }
        try audit("admin_key_create", principal: principal, key: record.id)
        return AdminResponse(status: 201, body: record.json(key: key))
    }

    func getKey(_ id: String) throws(AdminError) -> AdminResponse {
        guard let record = try run({ () throws(StoreError) in try store.liveKey(id: id) }) else { throw Self.noKey }
        return AdminResponse(status: 200, body: record.json())
    }

    func patchKey(_ id: String) throws(AdminError) -> AdminResponse {
        let body = try AdminBody(request.body, allowed: ["active", "permissions", "roles", "rate_limit", "expires_at"])
        var patch = KeyPatch()
        patch.active = try body.bool("active")
        patch.permissions = try body.strings("permissions")
        patch.roles = try body.strings("roles")
        patch.rateLimit = try body.nullableString("rate_limit")
        patch.expiresAt = try body.nullableInteger("expires_at")
        try AdminValidation.identityValues(principal: "p", orgID: nil, permissions: patch.permissions ?? [], roles: patch.roles ?? [])
        try AdminValidation.rate(patch.rateLimit ?? nil)
        try AdminValidation.time(patch.expiresAt ?? nil, "expires_at")
        let record = try run { () throws(StoreError) in try store.updateKey(id: id, patch) }
        try audit("admin_key_update", principal: record.principalID, key: id)
        return AdminResponse(status: 200, body: record.json())
    }

    func revokeKey(_ id: String) throws(AdminError) -> AdminResponse {
        guard try run({ () throws(StoreError) in try store.liveKey(id: id) }) != nil else { throw Self.noKey }
        let record = try run { () throws(StoreError) in try store.revoke(id: id) }
        try audit("admin_key_revoke", principal: record.principalID, key: id)
        return AdminResponse(status: 200, body: record.json())
    }

    func rotateKey(_ id: String) throws(AdminError) -> AdminResponse {
        let body = try AdminBody(request.body, allowed: ["grace_seconds"])
        let grace = try body.integer("grace_seconds") ?? 0
        guard (0...AdminValidation.maxGrace).contains(grace) else { throw .invalid("\"grace_seconds\" is 0 to 2592000.") }
        guard try run({ () throws(StoreError) in try store.liveKey(id: id) }) != nil else { throw Self.noKey }
        let (record, key) = try run { () throws(StoreError) in try store.rotate(id: id, grace: grace) }
        try audit("admin_key_rotate", principal: record.principalID, key: id, detail: "new key \(record.id), grace \(grace) s")
        return AdminResponse(status: 201, body: record.json(key: key))
    }

    // MARK: Revocations and audit

    func revoke() throws(AdminError) -> AdminResponse {
        let body = try AdminBody(request.body, allowed: ["jti", "expires_at", "principal_id", "issued_before"])
        var out = JSONObjectWriter()
        if let jti = try body.string("jti") {
            guard try body.string("principal_id") == nil, try body.integer("issued_before") == nil else {
                throw .invalid("Give a \"jti\" or a \"principal_id\", not both.")
            }
            guard !jti.isEmpty, jti.utf8.count <= 256 else { throw .invalid("\"jti\" is 1 to 256 bytes.") }
            // Without the token's `exp`, the revocation is kept for the longest token lifetime.
            let expiresAt = try body.integer("expires_at") ?? store.clock() + AdminValidation.defaultRevocationLifetime
            try AdminValidation.time(expiresAt, "expires_at")
            try run { () throws(StoreError) in try store.revokeToken(jti: jti, expiresAt: expiresAt) }
            try audit("admin_token_revoke", principal: nil, detail: "jti \(AdminBody.printable(jti))")
            out.string("jti", jti)
            out.integer("expires_at", Int64(expiresAt))
        } else if let principal = try body.string("principal_id") {
            try AdminValidation.identifier(principal, "principal_id")
            guard try body.integer("expires_at") == nil else { throw .invalid("\"expires_at\" goes with a \"jti\".") }
            let before = try body.integer("issued_before") ?? store.clock() + 1
            try AdminValidation.time(before, "issued_before")
            try run { () throws(StoreError) in try store.revokePrincipalTokens(principalID: principal, issuedBefore: before) }
            try audit("admin_principal_tokens_revoke", principal: principal, detail: "issued before \(before)")
            out.string("principal_id", principal)
            out.integer("issued_before", Int64(before))
        } else {
            throw .invalid("Give a \"jti\" or a \"principal_id\".")
        }
        return AdminResponse(status: 201, body: out.finished())
    }

    func listAudit() throws(AdminError) -> AdminResponse {
        let page = try Page(request.query, extra: ["since", "until", "principal_id", "outcome", "kind"])
        var filter = AuditFilter()
        filter.since = try page.integer("since")
        filter.until = try page.integer("until")
        filter.principalID = page.parameters["principal_id"]
        filter.outcome = page.parameters["outcome"]
        filter.kind = page.parameters["kind"]
        try AdminValidation.word(filter.outcome, "outcome")
        try AdminValidation.word(filter.kind, "kind")
        if let cursor = page.cursor {
            guard let before = Int(cursor), before > 0 else { throw .invalid("\"cursor\" is not a cursor of this listing.") }
            filter.before = before
        }
        filter.limit = page.limit + 1
        let events = try run { () throws(StoreError) in try store.auditEvents(filter) }
        return page.answer(events, cursor: { String($0.id) }) { $0.json() }
    }

    // MARK: Helpers

    private static let noPrincipal = AdminError.notFound("No such principal.")
    private static let noKey = AdminError.notFound("No such key.")

    /// Runs a store call, mapping its refusals (not found, conflict, invalid) to answers.
    private func run<T>(_ body: () throws(StoreError) -> T) throws(AdminError) -> T {
        do {
            return try body()
        } catch {
            throw AdminError(error)
        }
    }

    private func audit(_ kind: String, principal: String?, key: String? = nil, detail: String = "") throws(AdminError) {
        let event = AuditEvent(
            time: store.clock(), kind: kind, outcome: "success", principalID: principal, keyID: key, actor: request.actor,
            detail: detail)
        try run { () throws(StoreError) in try store.appendAudit([event]) }
    }
}
