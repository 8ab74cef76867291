import GatewayHTTP

/// The admin listener's access rule (SPEC §11): every `/admin/` request needs a credential
/// that the public routes would accept (API key or JWT), with `admin:read` to read and
/// `admin:write` to change. Never open: the rule is fixed, not configurable.
extension AccessPipeline {
    /// The fixed routes of the admin API: reading and writing.
    static let adminRead = adminRoute(permission: "admin:read")
    static let adminWrite = adminRoute(permission: "admin:write")

    private static func adminRoute(permission: String) -> CompiledRoute {
        CompiledRoute(
            pattern: "/admin/**", action: .respond(status: 200, body: []), stripPrefix: nil, isPublic: false,
            authorization: RouteAuthorization(require: [permission], requireAny: [], requireRole: [], matchClaims: []),
            rateLimit: .off)
    }

    /// Decides an admin API request: GET and HEAD read, every other method writes. The failure
    /// gate and the failure count apply as on the public listener; there is no rate limit.
    package func decideAdmin(
        _ request: AccessRequest, state: inout AccessState, scratch: AccessScratch, clock: AccessClock
    ) -> AccessResult {
        state.beginRequest()
        let reads = request.method == .get || request.method == .head
        return decide(request, route: reads ? Self.adminRead : Self.adminWrite, state: &state, scratch: scratch, clock: clock, trace: nil)
    }
}
