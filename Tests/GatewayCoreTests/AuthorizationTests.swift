import GatewayHTTP
import Testing

@testable import GatewayCore

/// Roles, wildcards and route rules (SPEC §5, §6).
@Suite("Authorization")
struct AuthorizationTests {
    static let roles = """
        roles {
            reader  memory:read memory:search session:read;
            writer  @reader memory:create session:create;
            admin   @writer admin:*;
            root    *;
        }

        """

    func table() throws -> RoleTable { RoleTable(try loadConfig(Self.roles).roles) }

    @Test("role inclusion is transitive and wildcards grant areas or everything")
    func expansion() throws {
        let roles = try table()
        let writer = roles.resolve(Identity(userID: "u", roles: ["writer"], method: .jwt))
        #expect(writer.permissions.names == ["memory:create", "memory:read", "memory:search", "session:create", "session:read"])
        #expect(writer.roles == ["writer", "reader"])
        let admin = roles.resolve(Identity(userID: "u", permissions: ["billing:view"], roles: ["admin"], method: .jwt))
        #expect(admin.permissions.contains("admin:keys:delete") && admin.permissions.contains("admin:x"))
        #expect(admin.permissions.contains("billing:view") && admin.permissions.contains("memory:read"))
        #expect(!admin.permissions.contains("billing:edit") && !admin.permissions.contains("admin"))
        #expect(admin.roles == ["admin", "writer", "reader"])
        let root = roles.resolve(Identity(userID: "u", roles: ["root"], method: .jwt))
        #expect(root.permissions.contains("anything:at:all"))
        let stranger = roles.resolve(Identity(userID: "u", roles: ["undefined-role"], method: .jwt))
        #expect(stranger.permissions.names.isEmpty && stranger.roles == ["undefined-role"])
    }

    @Test("direct wildcard permissions")
    func directWildcards() {
        let set = PermissionSet(["memory:*", "session:read"])
        #expect(set.contains("memory:read") && set.contains("memory:") && !set.contains("memory") && !set.contains("memoryx:read"))
        #expect(set.contains("session:read") && !set.contains("session:write"))
        #expect(PermissionSet(["*"]).contains("x"))
    }

    func evaluate(_ rules: RouteAuthorization, _ identity: Identity?, parameters: [String: String] = [:]) throws -> AuthorizationResult {
        let resolved = try identity.map { try table().resolve($0) }
        return rules.evaluate(identity, resolved) { name in parameters[name].map { Array($0.utf8) } }
    }

    @Test("require, require_any, require_role and match_claim, in order")
    func rules() throws {
        let reader = Identity(userID: "u1", orgID: "acme", roles: ["reader"], method: .apiKey)
        let rules = RouteAuthorization(require: ["memory:read", "session:read"], requireAny: [], requireRole: [], matchClaims: [])
        #expect(try evaluate(rules, reader) == .allowed)
        let writeRule = RouteAuthorization(require: ["memory:read", "memory:create"], requireAny: [], requireRole: [], matchClaims: [])
        #expect(try evaluate(writeRule, reader) == .insufficientScope("memory:read memory:create"))
        let any = RouteAuthorization(require: [], requireAny: ["admin:read", "session:read"], requireRole: [], matchClaims: [])
        #expect(try evaluate(any, reader) == .allowed)
        let anyMissing = RouteAuthorization(require: [], requireAny: ["admin:read", "billing:read"], requireRole: [], matchClaims: [])
        #expect(try evaluate(anyMissing, reader) == .insufficientScope("admin:read billing:read"))
        let role = RouteAuthorization(require: [], requireAny: [], requireRole: ["writer", "admin"], matchClaims: [])
        #expect(try evaluate(role, reader) == .roleMissing)
        #expect(try evaluate(role, Identity(userID: "u", roles: ["admin"], method: .jwt)) == .allowed)
        let tenant = RouteAuthorization(require: [], requireAny: [], requireRole: [], matchClaims: [ClaimMatch(claim: .orgID, parameter: "org")])
        #expect(try evaluate(tenant, reader, parameters: ["org": "acme"]) == .allowed)
        #expect(try evaluate(tenant, reader, parameters: ["org": "acme2"]) == .claimMismatch)
        #expect(try evaluate(tenant, reader, parameters: ["org": "ACME"]) == .claimMismatch)
        #expect(try evaluate(tenant, Identity(userID: "u", method: .jwt), parameters: ["org": "acme"]) == .claimMismatch)
        // Permissions are checked before roles and claims.
        let all = RouteAuthorization(require: ["x:y"], requireAny: [], requireRole: ["admin"], matchClaims: [ClaimMatch(claim: .orgID, parameter: "org")])
        #expect(try evaluate(all, reader, parameters: ["org": "zzz"]) == .insufficientScope("x:y"))
        // Rules with nobody authenticated (auth optional): 401, not 403.
        #expect(try evaluate(rules, nil) == .unauthenticated)
        #expect(try evaluate(RouteAuthorization(require: [], requireAny: [], requireRole: [], matchClaims: []), nil) == .allowed)
    }

    @Test(
        "match_claim compares the claim with the decoded segment",
        .bug(id: "review-11", "a claim was compared with the still percent-encoded segment"))
    func matchClaimDecodes() throws {
        let tenant = RouteAuthorization(require: [], requireAny: [], requireRole: [], matchClaims: [ClaimMatch(claim: .orgID, parameter: "org")])
        let spaced = Identity(userID: "u", orgID: "acme corp", method: .jwt)
        #expect(try evaluate(tenant, spaced, parameters: ["org": "acme%20corp"]) == .allowed)
        let encoded = Identity(userID: "u", orgID: "acme%20corp", method: .jwt)
        #expect(try evaluate(tenant, encoded, parameters: ["org": "acme%20corp"]) == .claimMismatch)
        #expect(try evaluate(tenant, Identity(userID: "u", orgID: "caf\u{e9}", method: .jwt), parameters: ["org": "caf%C3%A9"]) == .allowed)
        // A decoded `/` or control byte never matches, whatever the claim says.
        #expect(try evaluate(tenant, Identity(userID: "u", orgID: "a/b", method: .jwt), parameters: ["org": "a%2Fb"]) == .claimMismatch)
        #expect(try evaluate(tenant, Identity(userID: "u", orgID: "a\u{0}", method: .jwt), parameters: ["org": "a%00"]) == .claimMismatch)
        #expect(RouteAuthorization.decodedSegment(Array("a%2".utf8)) == nil)
        #expect(RouteAuthorization.decodedSegment(Array("a%41".utf8)) == Array("aA".utf8))
    }

    @Test("route rules are parsed and compiled")
    func routeConfig() throws {
        let config = try loadConfig(Self.roles + """
            upstream u { server 127.0.0.1:9; }
            store sqlite k.db;
            api_keys { }
            route /orgs/{org}/memory/** {
                require memory:read;
                require_any memory:search admin:read;
                require_role reader;
                match_claim org_id {org};
                upstream u;
            }
            """)
        let route = try #require(config.routes.first)
        #expect(route.require == ["memory:read"] && route.requireAny == ["memory:search", "admin:read"])
        #expect(route.requireRole == ["reader"] && route.matchClaims == [ClaimMatch(claim: .orgID, parameter: "org")])
    }

    static let base = "upstream u { server 127.0.0.1:9; }\nstore sqlite k.db;\napi_keys { }\n"

    @Test(arguments: [
        ErrorCase("roles {\n    a @b;\n}", at: "2:7", "unknown role \"b\""),
        ErrorCase("roles {\n    a x @a;\n}", at: "2:5", "role \"a\" includes itself: a -> a"),
        ErrorCase("roles {\n    a @b;\n    b @c;\n    c @a;\n}", at: "2:5", "role \"a\" includes itself: a -> b -> c -> a"),
        ErrorCase("roles {\n    a x;\n    a y;\n}", at: "3:5", "duplicate role \"a\""),
        ErrorCase("roles {\n    a;\n}", at: "2:5", "missing argument"),
        ErrorCase("roles {\n    a mem*ory;\n}", at: "2:7", "only \"*\" or a final \":*\""),
        ErrorCase("roles {\n    a \"x,y\";\n}", at: "2:7", "invalid permission"),
        ErrorCase(base + "route /a {\n    require x:*;\n    upstream u;\n}", at: "5:13", "require needs concrete permissions"),
        ErrorCase(base + "route /a {\n    require \"a\\\"b\";\n    upstream u;\n}", at: "5:13", "invalid permission"),
        ErrorCase(base + "route /a {\n    require_role ghost;\n    upstream u;\n}", at: "5:18", "unknown role \"ghost\""),
        ErrorCase(base + "route /a {\n    match_claim org_id {org};\n    upstream u;\n}", at: "5:24", "has no parameter {org}"),
        ErrorCase(base + "route /a/{org} {\n    match_claim tenant {org};\n    upstream u;\n}", at: "5:17", "unknown claim \"tenant\""),
        ErrorCase(base + "route /a/{org} {\n    match_claim org_id org;\n    upstream u;\n}", at: "5:24", "expected a path parameter"),
        ErrorCase(base + "route /a {\n    public;\n    require x;\n    upstream u;\n}", at: "6:5", "\"require\" contradicts \"public\""),
        ErrorCase(base + "route /a {\n    require x;\n    require y;\n    upstream u;\n}", at: "6:5", "duplicate \"require\""),
    ])
    func errors(_ item: ErrorCase) {
        expectSingleError(item)
    }
}
