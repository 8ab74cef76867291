import GatewayHTTP
import Testing

@testable import GatewayCore

/// RFC 9728 protected resource metadata: identifiers, well-known paths, documents, and the
/// `resource` directives (SPEC §10).
@Suite("Protected resource metadata")
struct ProtectedResourceTests {
    @Test("the metadata path inserts the well-known prefix before the resource's path (RFC 9728 §3.1)", arguments: [
        ("https://api.example.com", "/.well-known/oauth-protected-resource"),
        ("https://api.example.com/", "/.well-known/oauth-protected-resource"),
        ("https://api.example.com/mcp/a", "/.well-known/oauth-protected-resource/mcp/a"),
        ("https://api.example.com:8443/mcp/a/", "/.well-known/oauth-protected-resource/mcp/a"),
    ])
    func metadataPath(_ resource: String, _ path: String) {
        #expect(ProtectedResource.metadataPath(for: resource) == path)
    }

    @Test("the challenge names the absolute metadata URL on the resource's own authority")
    func challenge() {
        #expect(ProtectedResource.metadataURL(for: "https://api.example.com:8443/mcp/a")
            == "https://api.example.com:8443/.well-known/oauth-protected-resource/mcp/a")
        #expect(String(decoding: ProtectedResource.challengeParameter(for: "https://x.test"), as: UTF8.self)
            == ", resource_metadata=\"https://x.test/.well-known/oauth-protected-resource\"")
    }

    @Test("identifiers that are not https, have no host, user info, a query, a fragment or quotes are refused", arguments: [
        "http://api.example.com", "https://", "https:///mcp", "https://user@api.example.com", "https://api.example.com/?a=b",
        "https://api.example.com/#x", "https://api.example.com/\"x", "https://api.example.com/a b", "api.example.com",
    ])
    func refused(_ url: String) {
        #expect(ProtectedResource.problem(url) != nil)
    }

    static let base = """
        upstream u { server 127.0.0.1:9; }
        jwt { issuer https://idp.test; audience api; key k HS256 env:S; }
        tokens { signing_key t HS256 env:S; issuer https://gw.test; audience api; }
        roles { reader memory:read; }

        """
    static let secret = ["S": "protected-resource-test-secret-0123456789"]

    @Test("documents: top-level and per-route resources, every accepted issuer, the scopes each uses")
    func documents() throws {
        let config = try loadConfig(Self.base + """
            resource https://api.test;
            route /mcp/a/** { resource https://api.test/mcp/a; require tools:call; upstream u; }
            route /mcp/b/** { resource https://api.test/mcp/b; upstream u; }
            route /api/** { require memory:read; upstream u; }
            """, environment: Self.secret)
        let documents = ProtectedResource.documents(config)
        #expect(Set(documents.keys) == [
            "/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp/a",
            "/.well-known/oauth-protected-resource/mcp/b",
        ])
        let a = String(decoding: try #require(documents["/.well-known/oauth-protected-resource/mcp/a"]), as: UTF8.self)
        #expect(a == #"{"resource":"https://api.test/mcp/a","authorization_servers":["https://gw.test","https://idp.test"],"#
            + #""scopes_supported":["tools:call"],"bearer_methods_supported":["header"]}"#)
        let top = String(decoding: try #require(documents["/.well-known/oauth-protected-resource"]), as: UTF8.self)
        #expect(top.contains(#""scopes_supported":["memory:read","tools:call"]"#))
    }

    @Test(arguments: [
        ErrorCase(base + "resource http://api.test;", at: "5:10", "must be an https URL"),
        ErrorCase(base + "resource https://a.test;\nresource https://b.test;", at: "6:1", "duplicate"),
        ErrorCase(base + "route /a { public; resource https://a.test/a; upstream u; }", at: "5:20", "contradicts \"public\""),
        ErrorCase(base + "route /a { resource https://a.test/m; upstream u; }\nroute /b { resource https://b.test/m; upstream u; }",
                  at: "6:1", "would share the metadata path /.well-known/oauth-protected-resource/m"),
    ])
    func configErrors(_ item: ErrorCase) {
        expectSingleError(item, environment: Self.secret)
    }

    @Test("a route inherits the top-level resource's challenge; its own resource replaces it")
    func routeChallenges() throws {
        let loaded = try LoadedConfig.load(text: Self.base + """
            resource https://api.test;
            route /mcp/a/** { resource https://api.test/mcp/a; upstream u; }
            route /api/** { upstream u; }
            """, fileName: "t.conf", environment: Self.secret)
        func challenge(_ path: String) -> String {
            var parameters: [RouteParameter] = []
            let lookup = Array(path.utf8).withUnsafeBytes { loaded.routes.lookup(path: $0, method: .get, parameters: &parameters) }
            guard case .matched(let route) = lookup else { return "no route" }
            return String(decoding: route.resourceChallenge, as: UTF8.self)
        }
        #expect(challenge("/mcp/a/x") == ", resource_metadata=\"https://api.test/.well-known/oauth-protected-resource/mcp/a\"")
        #expect(challenge("/api/x") == ", resource_metadata=\"https://api.test/.well-known/oauth-protected-resource\"")
    }
}

/// `registration { ... }` (SPEC §10).
@Suite("Registration configuration")
struct RegistrationConfigTests {
    static let base = "store sqlite k.db;\napi_keys { }\nroles { agent memory:read; }\n"
    static let environment = ["T": "registration-token-0123456789"]

    @Test("the token is kept as a digest; roles and permissions are taken as given")
    func valid() throws {
        let config = try loadConfig(
            Self.base + "registration { require_token env:T; roles agent; permissions tools:call; }", environment: Self.environment)
        let registration = try #require(config.registration)
        #expect(registration.roles == ["agent"] && registration.permissions == ["tools:call"])
        #expect(registration.tokenDigest.count == 32)
    }

    @Test(arguments: [
        ErrorCase(base + "registration { roles agent; }", at: "4:1", "needs a \"require_token\""),
        ErrorCase(base + "registration { require_token \"short\"; }", at: "4:30", "at least 16 bytes"),
        ErrorCase(base + "registration { require_token env:T; roles nobody; }", at: "4:43", "unknown role \"nobody\""),
        ErrorCase(base + "registration { require_token env:T; permissions a,b; }", at: "4:49", ""),
        ErrorCase("registration { require_token env:T; }", at: "1:1", "needs `store sqlite PATH;` and `api_keys { }`"),
    ])
    func errors(_ item: ErrorCase) {
        let errors = configErrors(item.text, environment: Self.environment).filter { !$0.message.contains("literal") }
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first.map(position) == item.at, "\(errors)")
        #expect(errors.first?.message.contains(item.message) == true, "\(errors)")
    }
}
