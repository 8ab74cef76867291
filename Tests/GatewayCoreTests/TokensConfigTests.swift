import GatewayCrypto
import GatewayHTTP
import Testing

@testable import GatewayCore

/// `tokens`, `identity_token` and `allow_query_token` (SPEC §3, §4, §8, §10).
@Suite("Tokens configuration")
struct TokensConfigTests {
    static let secret = ["S": String(repeating: "k", count: 32)]
    static let tokens = "tokens {\n    signing_key hs HS256 env:S;\n    issuer https://gw.test;\n    audience api;\n}\n"
    static let upstream = "upstream u { server 127.0.0.1:9; }\n"

    @Test("a tokens block with defaults; routes inherit identity_token and may turn it off")
    func tokensBlock() throws {
        let config = try loadConfig(Self.tokens + Self.upstream + """
            identity_token on;
            route /a { upstream u; allow_query_token on; }
            route /b { upstream u; identity_token off; }
            route /c { public; upstream u; }
            """, environment: Self.secret)
        let tokens = try #require(config.tokens)
        #expect(tokens.issuer == "https://gw.test" && tokens.audiences == ["api"])
        #expect(tokens.signingKeys.map(\.kid) == ["hs"])
        #expect(tokens.accessTTL == .seconds(300) && tokens.refreshTTL == .seconds(7 * 86_400))
        #expect(config.identityToken)
        #expect(config.routes[0].allowQueryToken && config.routes[0].identityToken == nil)
        #expect(config.routes[1].identityToken == false)

        let loaded = try LoadedConfig(config: config)
        let audiences = ["/a", "/b", "/c"].map { path -> String? in
            var parameters: [RouteParameter] = []
            let lookup = Array(path.utf8).withUnsafeBytes { loaded.routes.lookup(path: $0, method: .get, parameters: &parameters) }
            guard case .matched(let route) = lookup else { return "no match" }
            return route.identityTokenAudience
        }
        #expect(audiences == ["u", nil, nil])
    }

    @Test(arguments: [
        ErrorCase("tokens {\n    issuer i;\n    audience a;\n}", at: "1:1", "\"tokens\" needs a \"signing_key\""),
        ErrorCase("tokens {\n    signing_key k HS256 env:S;\n    audience a;\n}", at: "1:1", "\"tokens\" needs an \"issuer\""),
        ErrorCase("tokens {\n    signing_key k HS256 env:S;\n    issuer i;\n}", at: "1:1", "\"tokens\" needs an \"audience\""),
        ErrorCase("tokens {\n    signing_key k XS256 env:S;\n    issuer i;\n    audience a;\n}", at: "2:19", "unknown algorithm"),
        ErrorCase("tokens {\n    signing_key k HS256 env:S;\n    signing_key k HS256 env:S;\n    issuer i;\n    audience a;\n}", at: "3:17",
                  "duplicate key id \"k\""),
        ErrorCase("tokens {\n    signing_key k HS256 env:S;\n    issuer i;\n    audience a;\n    access_ttl 0s;\n}", at: "5:16",
                  "greater than 0"),
        ErrorCase("tokens {\n    signing_key k HS256 env:S;\n    issuer i;\n    audience a;\n    key x HS256 env:S;\n}", at: "5:5",
                  "\"key\" is not allowed inside \"tokens\"; it belongs inside \"jwt\""),
        ErrorCase("identity_token on;", at: "1:1", "\"identity_token\" needs a `tokens` block"),
        ErrorCase("identity_token maybe;", at: "1:16", "expected on or off"),
        ErrorCase(upstream + "route / {\n    public;\n    allow_query_token on;\n    upstream u;\n}", at: "4:5",
                  "\"allow_query_token\" contradicts \"public\""),
        ErrorCase(upstream + "route / {\n    public;\n    identity_token on;\n    upstream u;\n}", at: "2:1",
                  "\"identity_token\" needs a `tokens` block"),
        ErrorCase(tokens + "jwt {\n    issuer https://gw.test;\n    key k HS256 env:S;\n}", at: "6:1",
                  "jwt issuer \"https://gw.test\" is the gateway's own"),
    ])
    func tokensErrors(_ item: ErrorCase) {
        expectSingleError(item, environment: Self.secret)
    }

    @Test("a tokens block alone lets protected routes load (the gateway verifies its own tokens)")
    func tokensAreAnAuthMethod() throws {
        _ = try loadConfig(Self.tokens + Self.upstream + "route /a { auth jwt; upstream u; }", environment: Self.secret)
    }

    @Test("a weak signing key is a load error at its line")
    func weakSigningKey() {
        do {
            _ = try LoadedConfig.load(
                text: "tokens {\n    issuer i;\n    audience a;\n    signing_key k HS256 env:S;\n}", fileName: "t.conf",
                environment: ["S": "short"])
            Issue.record("a 5-byte HMAC secret loaded")
        } catch {
            #expect(error.diagnostics.count == 1)
            #expect(error.diagnostics.first.map(position) == "4:5")
            #expect(error.diagnostics.first?.message.contains("signing_key \"k\"") == true)
        }
    }
}
