import Testing

@testable import GatewayCore

/// Identity values travel in headers exactly or not at all (SPEC §8).
@Suite("Identity values in headers")
struct IdentityHeaderSafetyTests {
    typealias F = JWTFixture
    static let header = #"{"alg":"HS256","kid":"hs-main"}"#

    static let refusedValues: [String] = [
        "ad\u{0}min", "admin\t", "\tadmin", " admin ", "admin ", "\u{a0}admin", "admin\u{3000}", "\u{2003}admin",
        "ad\nmin", "ad\rmin", "ad\u{7f}min", "ad\u{85}min", "ad\u{1b}[31mmin", "",
    ]

    @Test(
        "user ids no header carries exactly are refused",
        .bug(id: "review-2", "identity values were cleaned into another principal's value"),
        arguments: refusedValues)
    func refusedUserID(_ value: String) {
        #expect(!Identity(userID: value, method: .jwt).isRepresentableInHeaders)
        #expect(!Identity(userID: "u", name: value.isEmpty ? "\u{0}" : value, method: .jwt).isRepresentableInHeaders)
    }

    @Test("UTF-8 and inner spaces are kept as they are", arguments: ["José Ñúñez", "adm\u{200b}in", "a b", "名前", "x\u{a0}y"])
    func keptValues(_ value: String) {
        #expect(Identity(userID: value, orgID: value, email: value, name: value, method: .jwt).isRepresentableInHeaders)
    }

    @Test(
        "a permission or role that would read as two entries is refused",
        arguments: ["a,b", "a b", "a\tb", "", "a\u{a0}b", "a\u{2028}b", "a\u{0}"])
    func refusedListEntries(_ entry: String) {
        #expect(!Identity(userID: "u", permissions: ["ok", entry], method: .jwt).isRepresentableInHeaders)
        #expect(!Identity(userID: "u", roles: [entry], method: .apiKey).isRepresentableInHeaders)
    }

    @Test("list entries with wildcards, colons and UTF-8 pass")
    func keptListEntries() {
        #expect(Identity(userID: "u", permissions: ["memory:*", "*", "café:read"], roles: ["r-1", "r_2"], method: .jwt)
            .isRepresentableInHeaders)
    }

    @Test("the verifier refuses tokens whose mapped identity no header carries")
    func verifierRefuses() {
        let verify = { (extra: String) in
            F.failure(F.verify(F.token(header: Self.header, payload: F.payload(extra: extra))))
        }
        #expect(verify(#""name":"Jos\u00e9 \u00d1""#) == nil)
        #expect(verify(#""name":"a\u0000b""#) == .unrepresentableIdentity)
        #expect(verify(#""org_id":" acme""#) == .unrepresentableIdentity)
        #expect(verify(#""permissions":["read,admin:write"]"#) == .unrepresentableIdentity)
        #expect(verify(#""scope":"a\tb""#) == .unrepresentableIdentity)
        #expect(verify(#""roles":["a b"]"#) == .unrepresentableIdentity)
        #expect(JWTFailure.unrepresentableIdentity.reason == "jwt_identity_unrepresentable")
    }
}
