import GatewayCore
import Testing

/// The token endpoint's request reading (SPEC §10, RFC 6749): parameters, client
/// authentication and down-scoping, without sockets.
@Suite("Token requests")
struct TokenRequestTests {
    func form(_ text: String) throws -> OAuthParameters {
        try OAuthParameters.parse(contentType: "application/x-www-form-urlencoded", body: Array(text.utf8))
    }

    @Test("form bodies decode + and percent escapes; JSON bodies take strings")
    func parameters() throws {
        let parsed = try form("grant_type=client_credentials&scope=memory%3Aread+session:read&empty=")
        #expect(parsed["grant_type"] == "client_credentials")
        #expect(parsed["scope"] == "memory:read session:read")
        #expect(parsed["empty"] == "")
        let json = try OAuthParameters.parse(
            contentType: "application/json; charset=utf-8", body: Array(#"{"grant_type":"refresh_token","refresh_token":"x"}"#.utf8))
        #expect(json["refresh_token"] == "x")
        #expect(try OAuthParameters.parse(contentType: "Application/X-WWW-Form-Urlencoded;charset=UTF-8", body: Array("a=b".utf8))["a"] == "b")
    }

    @Test("malformed, repeated or untyped parameters are invalid_request", arguments: [
        ("application/x-www-form-urlencoded", "grant_type=a&grant_type=b"),
        ("application/x-www-form-urlencoded", "scope=%zz"),
        ("application/x-www-form-urlencoded", "scope=%4"),
        ("application/x-www-form-urlencoded", "scope=%0d%0a"),
        ("application/x-www-form-urlencoded", "=x"),
        ("application/x-www-form-urlencoded", "scope=%ff"),
        ("application/json", #"{"grant_type":1}"#),
        ("application/json", #"["grant_type"]"#),
        ("application/json", #"{"a":"1","a":"2"}"#),
        ("text/plain", "grant_type=client_credentials"),
        ("", "grant_type=client_credentials"),
    ])
    func badParameters(contentType: String, body: String) {
        #expect(throws: OAuthError.self) { try OAuthParameters.parse(contentType: contentType, body: Array(body.utf8)) }
    }

    @Test("client authentication: API-key header, Bearer, Basic (form-urlencoded), body")
    func clientAuthentication() throws {
        let none = OAuthParameters()
        #expect(try ClientAuthentication.resolve(authorization: nil, apiKeyHeader: "gw_k", parameters: none) == .apiKey("gw_k"))
        #expect(try ClientAuthentication.resolve(authorization: "Bearer gw_k", apiKeyHeader: nil, parameters: none) == .apiKey("gw_k"))
        // "id%3Ax:s+cr%25t" -> id "id:x", secret "s cr%t"
        let basic = "Basic aWQlM0F4OnMrY3IlMjV0"
        #expect(try ClientAuthentication.resolve(authorization: basic, apiKeyHeader: nil, parameters: none)
            == .client(id: "id:x", secret: "s cr%t", basic: true))
        let body = OAuthParameters(["client_id": "kid", "client_secret": "gw_kid_s"])
        #expect(try ClientAuthentication.resolve(authorization: nil, apiKeyHeader: nil, parameters: body)
            == .client(id: "kid", secret: "gw_kid_s", basic: false))
        #expect(try ClientAuthentication.resolve(authorization: nil, apiKeyHeader: nil, parameters: none) == ClientAuthentication.none)
        // Basic plus the same client_id in the body is one method.
        #expect(try ClientAuthentication.resolve(authorization: basic, apiKeyHeader: nil, parameters: OAuthParameters(["client_id": "id:x"]))
            == .client(id: "id:x", secret: "s cr%t", basic: true))
    }

    @Test("two methods at once, or a half credential, is refused")
    func conflictingAuthentication() {
        let body = OAuthParameters(["client_id": "kid", "client_secret": "s"])
        #expect(throws: OAuthError.invalidRequest("Use one client authentication method.")) {
            try ClientAuthentication.resolve(authorization: "Bearer k", apiKeyHeader: nil, parameters: body)
        }
        #expect(throws: OAuthError.invalidRequest("Use one client authentication method.")) {
            try ClientAuthentication.resolve(authorization: "Bearer k", apiKeyHeader: "k", parameters: OAuthParameters())
        }
        #expect(throws: OAuthError.invalidRequest("client_secret needs client_id.")) {
            try ClientAuthentication.resolve(authorization: nil, apiKeyHeader: nil, parameters: OAuthParameters(["client_secret": "s"]))
        }
        #expect(throws: OAuthError.invalidClient(basic: false)) {
            try ClientAuthentication.resolve(authorization: nil, apiKeyHeader: nil, parameters: OAuthParameters(["client_id": "kid"]))
        }
    }

    @Test("malformed Basic credentials are invalid_client with a Basic challenge", arguments: [
        "Basic", "Basic !!!!", "Basic aWQ", "Basic aWQ6", "Basic OnNlY3JldA==", "Basic aWQ6cw=", "Basic aWQ6cw==x",
    ])
    func badBasic(header: String) {
        #expect(throws: OAuthError.invalidClient(basic: true)) {
            try ClientAuthentication.resolve(authorization: header, apiKeyHeader: nil, parameters: OAuthParameters())
        }
    }

    @Test("other schemes are invalid_client")
    func otherScheme() {
        #expect(throws: OAuthError.invalidClient(basic: false)) {
            try ClientAuthentication.resolve(authorization: "Digest x", apiKeyHeader: nil, parameters: OAuthParameters())
        }
    }

    @Test("down-scoping grants a subset; more is invalid_scope")
    func scopes() throws {
        let key = PermissionSet(["memory:read", "memory:write", "session:*"])
        #expect(try ScopeGrant.grant(nil, from: key) == ["memory:read", "memory:write", "session:*"])
        #expect(try ScopeGrant.grant("memory:read", from: key) == ["memory:read"])
        #expect(try ScopeGrant.grant("session:read  session:read memory:write", from: key) == ["memory:write", "session:read"])
        #expect(try ScopeGrant.grant("session:*", from: key) == ["session:*"])
        for excess in ["admin:write", "memory:*", "*", "", "  ", "memory:read\"x", "memory:read\\", "session:read,admin:write"] {
            #expect(throws: OAuthError.invalidScope, "\(excess)") { try ScopeGrant.grant(excess, from: key) }
        }
        #expect(try ScopeGrant.grant("memory:*", from: PermissionSet(["*"])) == ["memory:*"])
    }

    @Test("every error maps to its RFC 6749 status and code")
    func errorMapping() {
        #expect(OAuthError.invalidClient(basic: true).status == 401)
        #expect(OAuthError.invalidClient(basic: false).code == "invalid_client")
        for error in [OAuthError.invalidRequest("x"), .invalidGrant, .invalidScope, .unsupportedGrantType, .unsupportedTokenType] {
            #expect(error.status == 400)
        }
        #expect(OAuthError.invalidGrant.code == "invalid_grant")
        #expect(OAuthError.invalidScope.code == "invalid_scope")
        #expect(OAuthError.unsupportedGrantType.code == "unsupported_grant_type")
    }
}
