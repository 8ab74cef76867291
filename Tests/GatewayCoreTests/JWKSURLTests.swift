import Testing

@testable import GatewayCore

@Suite("JWKS URL")
struct JWKSURLTests {
    @Test func parsesHTTPURLs() throws {
        let url = try JWKSURL.parse("http://127.0.0.1:8081/.well-known/jwks.json")
        #expect(url.scheme == .http && url.host == "127.0.0.1" && url.port == 8081)
        #expect(url.target == "/.well-known/jwks.json" && url.authority == "127.0.0.1:8081")

        let plain = try JWKSURL.parse("HTTP://IdP.Example.com")
        #expect(plain.host == "idp.example.com" && plain.port == 80 && plain.target == "/")
        #expect(plain.authority == "idp.example.com" && plain.description == "http://idp.example.com/")

        let v6 = try JWKSURL.parse("http://[::1]:9000?tenant=a")
        #expect(v6.host == "::1" && v6.port == 9000 && v6.target == "/?tenant=a" && v6.authority == "[::1]:9000")

        let tls = try JWKSURL.parse("https://idp.example.com/keys")
        #expect(tls.scheme == .https && tls.port == 443 && tls.authority == "idp.example.com")
    }

    @Test(arguments: [
        ("ftp://idp/keys", "expected http://"),
        ("idp.example.com/keys", "expected http://"),
        ("http://", "host"),
        ("http:///keys", "host"),
        ("http://user:pw@idp/keys", "user information"),
        ("http://idp:0/keys", "port"),
        ("http://idp:70000/keys", "port"),
        ("http://idp:80x/keys", "port"),
        ("http://idp/keys#frag", "fragment"),
        ("http://-idp-/keys", "host"),
        ("http://idp..example/keys", "host"),
        ("http://[::1/keys", "IPv6"),
        ("http://[zz]/keys", "IPv6"),
        ("http://idp/k\u{7F}", "visible ASCII"),
    ])
    func rejectsInvalidURLs(text: String, message: String) {
        #expect {
            _ = try JWKSURL.parse(text)
        } throws: { error in
            (error as? ConfigValueError)?.message.contains(message) == true
        }
    }

    private static let environment = ["S": String(repeating: "k", count: 32)]

    private static func block(_ line: String) -> String {
        "jwt {\n    issuer i;\n    \(line)\n}\nroute /x { auth jwt; deny; }"
    }

    @Test func jwksURLLoadsWithoutOtherKeys() throws {
        let config = try loadConfig(Self.block("jwks_url http://127.0.0.1:1/jwks;\n    jwks_url http://127.0.0.1:2/jwks refresh=1h;"))
        let urls = try #require(config.jwt.first?.jwksURLs)
        #expect(urls.map(\.url.port) == [1, 2])
        #expect(urls.map(\.refresh) == [.seconds(600), .seconds(3600)])
        #expect(urls[0].location.line == 3 && urls[0].location.column == 5)
    }

    @Test(arguments: [
        ErrorCase(block("jwks_url ftp://idp/jwks;"), at: "3:14", "invalid URL \"ftp://idp/jwks\""),
        ErrorCase(block("jwks_url http://idp:99999/jwks;"), at: "3:14", "port must be 1...65535"),
        ErrorCase(block("jwks_url http://idp/jwks refresh=10s;"), at: "3:30", "refresh must be at least 30s"),
        ErrorCase(block("jwks_url http://idp/jwks refresh=often;"), at: "3:30", "invalid duration"),
        ErrorCase(block("jwks_url http://idp/jwks every=1m;"), at: "3:30", "unknown jwks_url option"),
        ErrorCase(block("jwks_url http://idp/jwks refresh=1m extra;"), at: "3:41", "too many arguments"),
        ErrorCase(block("jwks_url;"), at: "3:5", "missing argument for \"jwks_url\""),
        ErrorCase(block("jwks_url http://idp/jwks;\n    jwks_url http://IDP:80/jwks;"), at: "4:14", "duplicate jwks_url http://idp/jwks"),
    ])
    func jwksURLErrors(item: ErrorCase) {
        expectSingleError(item, environment: Self.environment)
    }

    @Test func loadingCreatesEmptySourcesWithoutFetching() throws {
        let loaded = try LoadedConfig(config: loadConfig(Self.block("jwks_url http://127.0.0.1:1/jwks refresh=2m;")))
        let entry = try #require(loaded.jwt?.keySources.first)
        #expect(entry.refresh == .seconds(120) && entry.source.issuer == "i")
        #expect(entry.source.currentKeys.generation == 0 && !entry.source.policyState.inFlight)
    }

    @Test func reloadKeepsTheSourceOfAURLStillConfigured() throws {
        let first = try LoadedConfig(config: loadConfig(Self.block("jwks_url http://127.0.0.1:1/jwks;")))
        let kept = try #require(first.jwt?.keySources.first?.source)
        let text = "jwt {\n    issuer i;\n    jwks_url http://127.0.0.1:1/jwks refresh=1m;\n    jwks_url http://127.0.0.1:2/jwks;\n}\n"
            + "jwt {\n    issuer j;\n    jwks_url http://127.0.0.1:1/jwks;\n}\nroute /x { auth jwt; deny; }"
        let second = try LoadedConfig(config: loadConfig(text), reusing: [kept])
        let sources = try #require(second.jwt?.keySources.map(\.source))
        #expect(sources.count == 3)
        #expect(sources[0] === kept)
        #expect(sources[1] !== kept && sources[2] !== kept)   // another URL; the same URL of another issuer
        #expect(second.jwt?.keySources[0].refresh == .seconds(60))
    }
}
