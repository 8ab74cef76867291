import Testing

@testable import GatewayCore

@Suite("JWT claim mapping")
struct JWTClaimMappingTests {
    typealias F = JWTFixture
    static let header = #"{"alg":"HS256","kid":"hs-main"}"#

    private func identity(_ extra: String, claims: ClaimMapping = ClaimMapping()) -> Identity? {
        F.identity(F.verify(F.token(header: Self.header, payload: F.payload(extra: extra)), with: F.verifier(claims: claims)))
    }

    private func failure(_ extra: String, claims: ClaimMapping = ClaimMapping()) -> JWTFailure? {
        F.failure(F.verify(F.token(header: Self.header, payload: F.payload(extra: extra)), with: F.verifier(claims: claims)))
    }

    @Test func scopeStringBecomesPermissions() {
        #expect(identity(#""scope":"memory:read  memory:write session:list""#)?.permissions == ["memory:read", "memory:write", "session:list"])
        #expect(identity(#""scope":"""#)?.permissions == [])
    }

    @Test func permissionsArrayWinsOverScope() {
        #expect(identity(#""scope":"a b","permissions":["memory:read","admin:*"]"#)?.permissions == ["memory:read", "admin:*"])
        #expect(identity(#""permissions":null,"scope":"a b""#)?.permissions == ["a", "b"])
        #expect(failure(#""permissions":["a",1]"#) == .badClaims)
        #expect(failure(#""permissions":{"a":1}"#) == .badClaims)
    }

    @Test func rolesOrgEmailName() {
        let mapped = identity(#""roles":["writer","reader"],"org_id":"org-9","email":"u@example.com","name":"Ursula""#)
        #expect(mapped?.roles == ["writer", "reader"])
        #expect(mapped?.orgID == "org-9")
        #expect(mapped?.email == "u@example.com")
        #expect(mapped?.name == "Ursula")
        #expect(mapped?.method == .jwt)
        #expect(mapped?.method.rawValue == "jwt")
        #expect(identity("")?.roles == [])
        #expect(identity("")?.orgID == nil)
        #expect(identity(#""roles":"a b""#)?.roles == ["a", "b"])
    }

    @Test func customMappingFirstPresentWins() {
        let claims = ClaimMapping(userID: ["uid", "sub"], orgID: ["tenant", "org_id"], permissions: ["scp"], roles: ["groups"])
        let mapped = identity(#""uid":"u-77","tenant":"t-1","org_id":"ignored","scp":["x:y"],"groups":["g"],"scope":"ignored""#, claims: claims)
        #expect(mapped?.userID == "u-77")
        #expect(mapped?.subject == "user-1")
        #expect(mapped?.orgID == "t-1")
        #expect(mapped?.permissions == ["x:y"])
        #expect(mapped?.roles == ["g"])
        // Falls back to sub when uid is absent.
        #expect(identity(#""tenant":"t""#, claims: claims)?.userID == "user-1")
    }

    @Test func wrongTypesAreBadClaims() {
        #expect(failure(#""org_id":42"#) == .badClaims)
        #expect(failure(#""email":["a"]"#) == .badClaims)
        #expect(failure(#""jti":1"#) == .badClaims)
        // Missing user id claim.
        let payload = #"{"iss":"\#(F.issuer)","aud":"agent-api","exp":\#(F.now + 300)}"#
        #expect(F.failure(F.verify(F.token(header: Self.header, payload: payload))) == .badClaims)
        let numericSub = #"{"iss":"\#(F.issuer)","sub":12,"aud":"agent-api","exp":\#(F.now + 300)}"#
        #expect(F.failure(F.verify(F.token(header: Self.header, payload: numericSub))) == .badClaims)
    }
}
