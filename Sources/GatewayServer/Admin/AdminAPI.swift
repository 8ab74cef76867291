import GatewayCore
import GatewayHTTP
import GatewayStore
import GatewaySupport

/// An admin API request (SPEC §11), authenticated already, as the store worker runs it.
struct AdminRequest: Sendable {
    let method: HTTPMethod
    /// The normalized path (`/admin/keys/abc`).
    let path: String
    /// The raw query string (without `?`), empty when absent.
    let query: [UInt8]
    let body: [UInt8]
    /// Who asked, for the audit trail: `api_key:<id>` or `jwt:<sub>`.
    let actor: String
    /// The prefix of keys the API creates (`api_keys { prefix }`).
    let keyPrefix: String
    /// `X-Request-Id`, repeated in error bodies (SPEC §12).
    var requestID = ""
}

/// What the admin API answers: a status and a JSON body.
struct AdminResponse: Sendable, Equatable {
    var status: Int
    var body: [UInt8]
    /// For a 405: the methods the path allows.
    var allow: MethodSet? = nil
}

/// A refused admin request, mapped to its status and code in one place.
enum AdminError: Error, Equatable {
    case invalid(String)
    case notFound(String)
    case conflict(String)
    case methodNotAllowed(MethodSet)
    /// SQLite failed: not the client's fault (the caller answers 503 and logs it).
    case storeFailed(StoreError)

    /// The answer, with `request_id` in the body (SPEC §12).
    func response(requestID: String) -> AdminResponse {
        var answer = response
        answer.body.removeLast()
        answer.body += Array(",\"request_id\":".utf8)
        JSON.appendString(requestID, to: &answer.body)
        answer.body.append(UInt8(ascii: "}"))
        return answer
    }

    private var response: AdminResponse {
        var body = JSONObjectWriter()
        switch self {
        case .invalid(let why):
            body.string("error", "invalid_request")
            body.string("error_description", why)
            return AdminResponse(status: 400, body: body.finished())
        case .notFound(let what):
            body.string("error", "not_found")
            body.string("error_description", what)
            return AdminResponse(status: 404, body: body.finished())
        case .conflict(let why):
            body.string("error", "conflict")
            body.string("error_description", why)
            return AdminResponse(status: 409, body: body.finished())
        case .methodNotAllowed(let allow):
            body.string("error", "method_not_allowed")
            body.string("error_description", "Allowed: \(allow.allowHeaderValue).")
            return AdminResponse(status: 405, body: body.finished(), allow: allow)
        case .storeFailed:
            body.string("error", "temporarily_unavailable")
            body.string("error_description", "The store is unavailable; try again.")
            return AdminResponse(status: 503, body: body.finished())
        }
    }

    static func == (lhs: AdminError, rhs: AdminError) -> Bool { lhs.response == rhs.response }

    /// The store could not be reached (or did not answer in time).
    static let unavailable = AdminError.storeFailed(StoreError(kind: .closed, message: "store unavailable"))

    init(_ error: StoreError) {
        switch error.kind {
        case .notFound: self = .notFound(error.message)
        case .conflict: self = .conflict(error.message)
        case .invalidArgument: self = .invalid(error.message)
        default: self = .storeFailed(error)
        }
    }
}

/// The admin API's routes and handlers: runs on the store worker's thread with its own store
/// connection, so the event loops never wait on SQLite. Every change is one transaction and
/// is audited with its actor.
enum AdminAPI {
    /// Handles `request`. - Throws: the store's failure (the caller answers 503 and reopens).
    static func handle(_ request: AdminRequest, store: KeyStore) throws(StoreError) -> AdminResponse {
        do throws(AdminError) {
            return try route(request, store: store)
        } catch {
            if case .storeFailed(let failure) = error { throw failure }
            return error.response(requestID: request.requestID)
        }
    }

    private static func route(_ request: AdminRequest, store: KeyStore) throws(AdminError) -> AdminResponse {
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(2).map(String.init)
        let context = AdminContext(request: request, store: store)
        switch (segments.first, segments.count) {
        case ("principals", 1):
            return try context.dispatch(get: context.listPrincipals, post: context.createPrincipal)
        case ("principals", 2):
            let id = segments[1]
            return try context.dispatch(
                get: { () throws(AdminError) in try context.getPrincipal(id) },
                patch: { () throws(AdminError) in try context.patchPrincipal(id) },
                delete: { () throws(AdminError) in try context.deletePrincipal(id) })
        case ("principals", 3) where segments[2] == "keys":
            let id = segments[1]
            return try context.dispatch(
                get: { () throws(AdminError) in try context.listKeys(principal: id) },
                post: { () throws(AdminError) in try context.createKey(principal: id) })
        case ("keys", 1):
            return try context.dispatch(get: { () throws(AdminError) in try context.listKeys(principal: nil) })
        case ("keys", 2):
            let id = segments[1]
            return try context.dispatch(
                get: { () throws(AdminError) in try context.getKey(id) },
                patch: { () throws(AdminError) in try context.patchKey(id) },
                delete: { () throws(AdminError) in try context.revokeKey(id) })
        case ("keys", 3) where segments[2] == "rotate":
            let id = segments[1]
            return try context.dispatch(post: { () throws(AdminError) in try context.rotateKey(id) })
        case ("revocations", 1):
            return try context.dispatch(post: context.revoke)
        case ("audit", 1):
            return try context.dispatch(get: context.listAudit)
        default:
            throw .notFound("No such admin resource.")
        }
    }
}
