import GatewaySupport
import GatewayHTTP
import Testing

@testable import GatewayCore

/// An upstream named `u`, for routes that need one.
private let upstreamU = "upstream u {\n    server 127.0.0.1:1;\n}\n"

@Suite("Config validation: top level")
struct ConfigTopLevelValidationTests {
    @Test(arguments: [
        ErrorCase("foo;", at: "1:1", "unknown directive \"foo\""),
        ErrorCase("workers 2;\n  issuer x;", at: "2:3", "\"issuer\" is not allowed at top level; it belongs inside \"jwt\""),
        ErrorCase("server 127.0.0.1:80;", at: "1:1", "\"server\" is not allowed at top level; it belongs inside \"upstream\""),
        ErrorCase("max_head 1k;", at: "1:1", "\"max_head\" is not allowed at top level; it belongs inside \"limits\""),
        ErrorCase("public;", at: "1:1", "\"public\" is not allowed at top level; it belongs inside \"route\""),
        ErrorCase("require a:b;", at: "1:1", "\"require\" is not allowed at top level; it belongs inside \"route\""),
        ErrorCase("listen 0.0.0.0:8443 tls cert=file:a key=file:b;", at: "1:25", "too many arguments for \"listen\""),
        ErrorCase("admin_listen 127.0.0.1:9 tls;", at: "1:1", "\"admin_listen\" needs a block"),
        ErrorCase("listen 127.0.0.1:1 other;", at: "1:20", "expected \"tls\" after the address"),
        ErrorCase("listen;", at: "1:1", "missing argument for \"listen\""),
        ErrorCase("listen 127.0.0.1:1 { }", at: "1:20", "\"listen\" does not take a block"),
        ErrorCase("listen 1.2.3:80;", at: "1:8", "invalid host \"1.2.3\""),
        ErrorCase("listen 127.0.0.1:65536;", at: "1:8", "invalid port \"65536\""),
        ErrorCase("listen ::1:80;", at: "1:8", "write IPv6 addresses in brackets"),
        ErrorCase("listen 127.0.0.1:1;\nlisten 127.0.0.1:1;", at: "2:8", "duplicate listen address 127.0.0.1:1 (first at t.conf:1:8)"),
        ErrorCase("admin_listen 127.0.0.1:2;\nadmin_listen 127.0.0.1:3;", at: "2:1", "duplicate \"admin_listen\" (first at t.conf:1:1)"),
        ErrorCase("listen 127.0.0.1:1;\nadmin_listen 127.0.0.1:1;", at: "2:14", "admin_listen 127.0.0.1:1 is also a listen address"),
        ErrorCase("admin_listen 127.0.0.1;", at: "1:14", "missing port"),
        ErrorCase("workers 2;\nworkers 3;", at: "2:1", "duplicate \"workers\" (first at t.conf:1:1)"),
        ErrorCase("workers 0;", at: "1:9", "0 is out of range 1...256"),
        ErrorCase("workers 257;", at: "1:9", "257 is out of range 1...256"),
        ErrorCase("workers many;", at: "1:9", "invalid workers \"many\"; expected auto or a number 1...256"),
        ErrorCase("workers;", at: "1:1", "missing argument for \"workers\""),
        ErrorCase("workers 1 2;", at: "1:11", "too many arguments for \"workers\""),
        ErrorCase("trust_proxies;", at: "1:1", "missing argument for \"trust_proxies\" (expected at least 1 argument)"),
        ErrorCase("trust_proxies 10.0.0.1/8;", at: "1:15", "host bits set in \"10.0.0.1/8\"; did you mean 10.0.0.0/8?"),
        ErrorCase("trust_proxies 10.0.0.0/8 300.1.1.1;", at: "1:26", "invalid network \"300.1.1.1\""),
        ErrorCase("trust_proxies ::1/129;", at: "1:15", "invalid prefix length \"129\""),
        ErrorCase("limits;", at: "1:1", "\"limits\" needs a block { ... }"),
        ErrorCase("limits x { }", at: "1:8", "too many arguments for \"limits\" (expected no arguments)"),
        ErrorCase("limits { }\nlimits { }", at: "2:1", "duplicate \"limits\" (first at t.conf:1:1)"),
        ErrorCase("store redis x;", at: "1:7", "unsupported store \"redis\"; expected \"sqlite\""),
        ErrorCase("store sqlite;", at: "1:1", "missing argument for \"store\" (expected 2 arguments)"),
        ErrorCase("store sqlite a b;", at: "1:16", "too many arguments for \"store\""),
        ErrorCase("store sqlite \"\";", at: "1:14", "\"store\" needs a file path"),
        ErrorCase("store sqlite a.db;\nstore sqlite b.db;", at: "2:1", "duplicate \"store\""),
        ErrorCase("access_log \"\";", at: "1:12", "\"access_log\" needs off, stdout or file:PATH"),
        ErrorCase("access_log file:;", at: "1:12", "\"access_log\" needs off, stdout or file:PATH"),
        ErrorCase("metrics maybe;", at: "1:9", "expected on or off, got \"maybe\""),
        ErrorCase("access_log off;\naccess_log stdout;", at: "2:1", "duplicate \"access_log\""),
        ErrorCase("access_log a b;", at: "1:14", "too many arguments for \"access_log\""),
    ])
    func errors(item: ErrorCase) {
        expectSingleError(item)
    }

    @Test(arguments: [
        "rate_limit_store",
    ])
    func notYetSupportedTopLevel(name: String) {
        expectSingleError(ErrorCase("workers 1;\n  \(name) x;", at: "2:3", "\"\(name)\" is not supported yet"))
        // A block form is refused once, without complaints about its contents.
        expectSingleError(ErrorCase("\(name) {\n    issuer x;\n}", at: "1:1", "\"\(name)\" is not supported yet"))
    }
}

@Suite("Config validation: limits and upstreams")
struct ConfigSectionValidationTests {
    @Test(arguments: [
        ErrorCase("limits {\n    keepalive 1;\n}", at: "2:5", "\"keepalive\" is not allowed inside \"limits\"; it belongs inside \"upstream\""),
        ErrorCase("limits {\n    bogus 1;\n}", at: "2:5", "unknown directive \"bogus\""),
        ErrorCase("limits {\n    max_head 16q;\n}", at: "2:14", "invalid size suffix \"q\""),
        ErrorCase("limits {\n    max_head 0;\n}", at: "2:14", "size must be greater than 0"),
        ErrorCase("limits {\n    max_head 1k 2k;\n}", at: "2:17", "too many arguments for \"max_head\""),
        ErrorCase("limits {\n    max_head;\n}", at: "2:5", "missing argument for \"max_head\""),
        ErrorCase("limits {\n    max_head 1k { }\n}", at: "2:17", "\"max_head\" does not take a block"),
        ErrorCase("limits {\n    max_head 1k;\n    max_head 2k;\n}", at: "3:5", "duplicate \"max_head\" (first at t.conf:2:5)"),
        ErrorCase("limits {\n    max_headers 0;\n}", at: "2:17", "0 is out of range 1...10000"),
        ErrorCase("limits {\n    max_headers 1k;\n}", at: "2:17", "invalid number \"1k\""),
        ErrorCase("limits {\n    max_body 1x;\n}", at: "2:14", "invalid size suffix \"x\""),
        ErrorCase("limits {\n    max_token 0k;\n}", at: "2:15", "size must be greater than 0"),
        ErrorCase("limits {\n    head_timeout 10;\n}", at: "2:18", "duration \"10\" needs a unit"),
        ErrorCase("limits {\n    idle_timeout 0s;\n}", at: "2:18", "duration must be greater than 0"),
        ErrorCase("limits {\n    drain_timeout 1y;\n}", at: "2:19", "invalid duration unit \"y\""),
        ErrorCase("limits {\n    send_timeout 0s;\n}", at: "2:18", "duration must be greater than 0"),
        ErrorCase("limits {\n    body_timeout 0s;\n}", at: "2:18", "duration must be greater than 0"),
        ErrorCase("limits {\n    tunnel_idle_timeout;\n}", at: "2:5", "missing argument"),
        ErrorCase("limits {\n    max_connections -1;\n}", at: "2:21", "invalid number \"-1\""),
        ErrorCase("limits {\n    max_connections 1000001;\n}", at: "2:21", "out of range 1...1000000"),
        ErrorCase("upstream u {\n}", at: "1:1", "upstream \"u\" needs at least one \"server\""),
        ErrorCase("upstream u;", at: "1:1", "\"upstream\" needs a block { ... }"),
        ErrorCase("upstream {\n    server 127.0.0.1:1;\n}", at: "1:1", "missing argument for \"upstream\""),
        ErrorCase("upstream a b {\n    server 127.0.0.1:1;\n}", at: "1:12", "too many arguments for \"upstream\""),
        ErrorCase("upstream u/x {\n    server 127.0.0.1:1;\n}", at: "1:10", "invalid upstream name \"u/x\""),
        ErrorCase(upstreamU + "upstream u {\n    server 127.0.0.1:2;\n}", at: "4:10", "duplicate upstream \"u\" (first at t.conf:1:10)"),
        ErrorCase("upstream u {\n    server;\n}", at: "2:5", "missing argument for \"server\""),
        ErrorCase("upstream u {\n    server 127.0.0.1:0;\n}", at: "2:12", "invalid port \"0\": expected 1...65535"),
        ErrorCase("upstream u {\n    server example.com:80;\n}", at: "2:12", "invalid host \"example.com\""),
        ErrorCase("upstream u {\n    server 127.0.0.1:1 weight=2;\n}", at: "2:24", "unknown server option \"weight=2\""),
        ErrorCase("upstream u {\n    server 127.0.0.1:1 max_fails;\n}", at: "2:24", "unknown server option \"max_fails\""),
        ErrorCase("upstream u {\n    server 127.0.0.1:1 max_fails=0;\n}", at: "2:24", "max_fails: 0 is out of range 1...1000"),
        ErrorCase("upstream u {\n    server 127.0.0.1:1 fail_timeout=5;\n}", at: "2:24", "fail_timeout: duration \"5\" needs a unit"),
        ErrorCase("upstream u {\n    server 127.0.0.1:1 fail_timeout=0s;\n}", at: "2:24", "fail_timeout: must be greater than 0"),
        ErrorCase("upstream u {\n    server 127.0.0.1:1 max_fails=2 max_fails=3;\n}", at: "2:36", "duplicate server option \"max_fails\""),
        ErrorCase("upstream u {\n    server 127.0.0.1:1 max_fails=2 fail_timeout=1s x=1;\n}", at: "2:52", "too many arguments for \"server\""),
        ErrorCase("upstream u {\n    server 127.0.0.1:1;\n    server 127.0.0.1:1;\n}", at: "3:12", "duplicate server 127.0.0.1:1 (first at t.conf:2:12)"),
        ErrorCase("upstream u {\n    server 127.0.0.1:1 { }\n}", at: "2:24", "\"server\" does not take a block"),
        ErrorCase("upstream u {\n    server 127.0.0.1:1;\n    keepalive 1;\n    keepalive 2;\n}", at: "4:5", "duplicate \"keepalive\" (first at t.conf:3:5)"),
        ErrorCase("upstream u {\n    server 127.0.0.1:1;\n    keepalive -1;\n}", at: "3:15", "invalid number \"-1\""),
        ErrorCase("upstream u {\n    server 127.0.0.1:1;\n    keepalive 10001;\n}", at: "3:15", "out of range 0...10000"),
        ErrorCase("upstream u {\n    server 127.0.0.1:1;\n    connect_timeout 0ms;\n}", at: "3:21", "duration must be greater than 0"),
        ErrorCase("upstream u {\n    server 127.0.0.1:1;\n    connect_timeout 1s;\n    connect_timeout 2s;\n}", at: "4:5", "duplicate \"connect_timeout\""),
        ErrorCase("upstream u {\n    server 127.0.0.1:1;\n    read_timeout 1.5s;\n}", at: "3:18", "invalid duration unit \".5s\""),
        ErrorCase("upstream u {\n    server 127.0.0.1:1;\n    read_timeout 1s;\n    read_timeout 1s;\n}", at: "4:5", "duplicate \"read_timeout\""),
        ErrorCase("upstream u {\n    server 127.0.0.1:1;\n    max_head 1k;\n}", at: "3:5", "\"max_head\" is not allowed inside \"upstream\"; it belongs inside \"limits\""),
        ErrorCase("upstream u {\n    server 127.0.0.1:1;\n    public;\n}", at: "3:5", "\"public\" is not allowed inside \"upstream\"; it belongs inside \"route\""),
    ])
    func errors(item: ErrorCase) {
        expectSingleError(item)
    }
}

@Suite("Config validation: routes")
struct ConfigRouteValidationTests {
    @Test(arguments: [
        ErrorCase("route api {\n    deny;\n}", at: "1:7", "route pattern \"api\" must start with \"/\""),
        ErrorCase("route /;", at: "1:1", "\"route\" needs a block { ... }"),
        ErrorCase("route {\n    deny;\n}", at: "1:1", "missing argument for \"route\""),
        ErrorCase("route / /x {\n    deny;\n}", at: "1:9", "too many arguments for \"route\""),
        ErrorCase("route / {\n    public;\n}", at: "1:1", "route \"/\" needs an action: \"upstream\", \"respond\" or \"deny\""),
        ErrorCase("route / {\n}", at: "1:1", "needs an action"),
        ErrorCase(
            "route / {\n    public;\n    upstream u;\n    deny;\n}\n" + upstreamU, at: "4:5",
            "\"deny\" conflicts with \"upstream\" at t.conf:3:5; a route takes exactly one of \"upstream\", \"respond\" or \"deny\""),
        ErrorCase("route / {\n    public;\n    respond 200;\n    upstream u;\n}\n" + upstreamU, at: "4:5", "\"upstream\" conflicts with \"respond\""),
        ErrorCase("route / {\n    deny;\n    deny;\n}", at: "3:5", "duplicate \"deny\" (first at t.conf:2:5)"),
        ErrorCase("route / {\n    public;\n    upstream u;\n    upstream u;\n}\n" + upstreamU, at: "4:5", "duplicate \"upstream\""),
        ErrorCase("route / {\n    public;\n    upstream nope;\n}", at: "3:14", "unknown upstream \"nope\""),
        ErrorCase("route / {\n    public;\n    upstream;\n}", at: "3:5", "missing argument for \"upstream\""),
        ErrorCase("route / {\n    public;\n    upstream u { }\n}\n" + upstreamU, at: "3:16", "\"upstream\" does not take a block"),
        ErrorCase("route / {\n    public;\n    respond 600;\n}", at: "3:13", "invalid status \"600\"; expected 100...599"),
        ErrorCase("route / {\n    public;\n    respond 99;\n}", at: "3:13", "invalid status \"99\""),
        ErrorCase("route / {\n    public;\n    respond ok;\n}", at: "3:13", "invalid status \"ok\""),
        ErrorCase("route / {\n    public;\n    respond 200 a b;\n}", at: "3:19", "too many arguments for \"respond\" (expected 1 to 2 arguments)"),
        ErrorCase("route / {\n    public;\n    respond;\n}", at: "3:5", "missing argument for \"respond\""),
        ErrorCase("route / {\n    deny x;\n}", at: "2:10", "too many arguments for \"deny\" (expected no arguments)"),
        ErrorCase("route / {\n    public x;\n    deny;\n}", at: "2:12", "too many arguments for \"public\""),
        ErrorCase("route / {\n    public;\n    public;\n    deny;\n}", at: "3:5", "duplicate \"public\""),
        ErrorCase("route / {\n    methods GET FETCH;\n    deny;\n}", at: "2:17", "unknown method \"FETCH\""),
        ErrorCase("route / {\n    methods get;\n    deny;\n}", at: "2:13", "unknown method \"get\" (method names are upper case)"),
        ErrorCase("route / {\n    methods OTHER;\n    deny;\n}", at: "2:13", "unknown method \"OTHER\""),
        ErrorCase("route / {\n    methods GET POST GET;\n    deny;\n}", at: "2:22", "duplicate method \"GET\" (first at t.conf:2:13)"),
        ErrorCase("route / {\n    methods;\n    deny;\n}", at: "2:5", "missing argument for \"methods\" (expected at least 1 argument)"),
        ErrorCase("route / {\n    methods GET;\n    methods POST;\n    deny;\n}", at: "3:5", "duplicate \"methods\""),
        ErrorCase("route / {\n    deny;\n    listen 127.0.0.1:1;\n}", at: "3:5", "\"listen\" is not allowed inside \"route\"; it belongs at top level"),
        ErrorCase("route / {\n    deny;\n    server 127.0.0.1:1;\n}", at: "3:5", "it belongs inside \"upstream\""),
        ErrorCase("route / {\n    deny;\n    bogus;\n}", at: "3:5", "unknown directive \"bogus\""),
        ErrorCase("route / {\n    deny;\n    route /x {\n        deny;\n    }\n}", at: "3:5", "\"route\" is not allowed inside \"route\""),
    ])
    func errors(item: ErrorCase) {
        expectSingleError(item)
    }

    @Test(arguments: [
        "require_typ",
    ])
    func notYetSupportedInRoute(name: String) {
        expectSingleError(ErrorCase("route / {\n    deny;\n    \(name) x;\n}", at: "3:5", "\"\(name)\" is not supported yet"))
    }

    @Test(arguments: [
        ErrorCase("route / {\n    respond 200;\n}", at: "1:1", "route requires authentication: configure `jwt`, `api_keys` or `introspection`, or add `public;`"),
        ErrorCase(upstreamU + "route /api/** {\n    methods GET;\n    upstream u;\n}", at: "4:1", "route requires authentication: configure `jwt`, `api_keys` or `introspection`, or add `public;`"),
        ErrorCase(upstreamU + "store sqlite k.db;\napi_keys { prefix gw_; }\nroute /a {\n    auth jwt;\n    upstream u;\n}", at: "6:1",
                  "route accepts only JWTs, but no `jwt` (or `tokens`) block is configured"),
    ])
    func failClosedWithoutPublic(item: ErrorCase) {
        expectSingleError(item)
    }

    @Test func denyNeedsNoPublic() throws {
        let config = try loadConfig("route /internal/** {\n    deny;\n}")
        #expect(config.routes.first?.action == .deny)
        #expect(config.routes.first?.isPublic == false)
    }

    @Test func requireLoadsWithAPIKeys() throws {
        let config = try loadConfig(upstreamU + "store sqlite k.db;\napi_keys { }\nroute /api/** {\n    require memory:read;\n    upstream u;\n}")
        #expect(config.routes.first?.require == ["memory:read"])
    }

    @Test("api_keys makes protected routes loadable, with auth modes and forward_credentials")
    func apiKeysRoutes() throws {
        let config = try loadConfig(upstreamU + """
            store sqlite k.db;
            api_keys { header X-Key; bearer on; prefix gw_ ak_; legacy_prefix ck_; }
            route /a { upstream u; }
            route /b { auth api_key; forward_credentials on; upstream u; }
            route /c { auth optional; upstream u; }
            """)
        #expect(config.apiKeys?.header == "X-Key")
        #expect(config.apiKeys?.bearer == true)
        #expect(config.apiKeys?.prefixes == ["gw_", "ak_"])
        #expect(config.apiKeys?.legacyPrefixes == ["ck_"])
        #expect(config.routes.map(\.auth) == [.required, .apiKeyOnly, .optional])
        #expect(config.routes.map(\.forwardCredentials) == [false, true, false])
    }

    @Test(arguments: [
        ErrorCase("api_keys { }", at: "1:1", "\"api_keys\" needs a key store"),
        ErrorCase("store sqlite k.db;\napi_keys { header Authorization; }", at: "2:19", "cannot be Authorization"),
        ErrorCase("store sqlite k.db;\napi_keys { header X-Auth-Key; }", at: "2:19", "identity (X-Auth-*) header"),
        ErrorCase("store sqlite k.db;\napi_keys { bearer maybe; }", at: "2:19", "expected on or off"),
        ErrorCase("store sqlite k.db;\napi_keys { bogus x; }", at: "2:12", "unknown directive \"bogus\""),
        ErrorCase("store sqlite k.db;\napi_keys { prefix \"a b\"; }", at: "2:19", "must be 1 to 32 visible ASCII characters"),
        ErrorCase("route / {\n    public;\n    auth optional;\n    deny;\n}", at: "3:5", "\"auth\" contradicts \"public\""),
        ErrorCase("route / {\n    deny;\n    auth maybe;\n}", at: "3:10", "\"auth\" takes api_key, jwt, introspection, mtls or optional"),
        ErrorCase("route / {\n    deny;\n    forward_credentials x;\n}", at: "3:25", "expected on or off"),
    ])
    func apiKeysErrors(item: ErrorCase) {
        expectSingleError(item)
    }

    @Test("a jwt block with inline and file keys, claims, leeway and typ")
    func jwtBlock() throws {
        let config = try loadConfig("""
            jwt {
                issuer https://idp.test;
                audience a b;
                key hs HS256 env:S;
                leeway 10s;
                require none;
                require_typ at+jwt;
                claims user_id=uid,sub permissions=scope;
                cache 10;
            }
            route /x { auth jwt; deny; }
            """, environment: ["S": String(repeating: "k", count: 32)])
        let block = try #require(config.jwt.first)
        #expect(block.issuer == "https://idp.test" && block.audiences == ["a", "b"])
        #expect(block.keys.map(\.kid) == ["hs"] && block.keys[0].material.reveal { $0.count } == 32)
        #expect(block.leeway == .seconds(10) && !block.requireExp && block.requiredTyp == "at+jwt")
        #expect(block.claims.userID == ["uid", "sub"] && block.claims.permissions == ["scope"] && block.cacheSize == 10)
    }

    @Test(arguments: [
        ErrorCase("jwt {\n    key k HS256 env:S;\n}", at: "1:1", "\"jwt\" needs an \"issuer\""),
        ErrorCase("jwt {\n    issuer i;\n}", at: "1:1", "\"jwt\" needs at least one \"key\""),
        ErrorCase("jwt {\n    issuer i;\n    key k HS999 env:S;\n}", at: "3:11", "unknown algorithm \"HS999\""),
        ErrorCase("jwt {\n    issuer i;\n    key k HS256 env:S;\n    key k HS256 env:S;\n}", at: "4:9", "duplicate key id \"k\""),
        ErrorCase("jwt {\n    issuer i;\n    key k HS256 env:S;\n    claims user=sub;\n}", at: "4:12", "unknown identity field \"user\""),
        ErrorCase("jwt {\n    issuer i;\n    key k HS256 env:S;\n    require maybe;\n}", at: "4:13", "\"require\" takes exp or none"),
        ErrorCase("jwt {\n    issuer i;\n    key k HS256 env:S;\n    leeway 2h;\n}", at: "4:12", "\"leeway\" is at most 1h"),
    ])
    func jwtErrors(item: ErrorCase) {
        expectSingleError(item, environment: ["S": String(repeating: "k", count: 32)])
    }

    private static func stripRoute(_ pattern: String, _ prefix: String) -> String {
        upstreamU + "route \(pattern) {\n    public;\n    upstream u;\n    strip_prefix \(prefix);\n}"
    }

    @Test(arguments: [
        ErrorCase(stripRoute("/api/**", "api"), at: "7:18", "strip_prefix \"api\" must start with \"/\""),
        ErrorCase(stripRoute("/api/**", "/api/"), at: "7:18", "strip_prefix \"/api/\" must not end with \"/\""),
        ErrorCase(stripRoute("/**", "/"), at: "7:18", "must not end with \"/\""),
        ErrorCase(stripRoute("/api/**", "/v1"), at: "7:18", "strip_prefix \"/v1\" is not a prefix of the route pattern \"/api/**\""),
        ErrorCase(stripRoute("/api/**", "/ap"), at: "7:18", "is not a prefix of the route pattern"),
        ErrorCase(stripRoute("/api", "/api/v1"), at: "7:18", "is not a prefix of the route pattern"),
        ErrorCase(stripRoute("/api/{id}/x", "/api/{id}"), at: "7:18", "must be literal segments"),
        ErrorCase(stripRoute("/api/*/x", "/api/*"), at: "7:18", "must be literal segments"),
        ErrorCase(stripRoute("/api//x/**", "/api//x"), at: "7:18", "has an empty, \".\" or \"..\" segment"),
        ErrorCase(stripRoute("/api/../x/**", "/api/.."), at: "7:18", "has an empty, \".\" or \"..\" segment"),
        ErrorCase(
            "route /api/** {\n    public;\n    respond 200;\n    strip_prefix /api;\n}", at: "4:18",
            "\"strip_prefix\" only applies to a route that forwards to an upstream"),
        ErrorCase(
            upstreamU + "route /api/** {\n    public;\n    upstream u;\n    strip_prefix /api;\n    strip_prefix /api;\n}",
            at: "8:5", "duplicate \"strip_prefix\""),
        ErrorCase(upstreamU + "route /api/** {\n    public;\n    upstream u;\n    strip_prefix;\n}", at: "7:5", "missing argument for \"strip_prefix\""),
    ])
    func stripPrefixErrors(item: ErrorCase) {
        expectSingleError(item)
    }

    @Test(arguments: [
        ("/api/**", "/api"),
        ("/api/v1/{id}", "/api/v1"),
        ("/api", "/api"),
        ("/api/v1/*/x", "/api"),
    ])
    func validStripPrefixes(pattern: String, prefix: String) throws {
        let config = try loadConfig(Self.stripRoute(pattern, prefix))
        #expect(config.routes.first?.stripPrefix == prefix)
    }
}

@Suite("Config validation: results")
struct ConfigResultTests {
    @Test func defaults() throws {
        let config = try loadConfig("# nothing but a comment\n")
        var expected = GatewayConfig()
        expected.listen = [ListenAddress(host: "127.0.0.1", port: 8080)]
        #expect(config == expected)
        #expect(config.adminListen == nil)
        #expect(config.workers == .auto)
        #expect(config.trustProxies.isEmpty)
        #expect(config.limits == LimitsConfig())
        #expect(config.limits.maxHeadBytes == 16 * 1024)
        #expect(config.limits.maxHeaders == 100)
        #expect(config.limits.maxBodyBytes == 10 * 1024 * 1024)
        #expect(config.limits.maxTokenBytes == 8 * 1024)
        #expect(config.limits.headTimeout == .seconds(10))
        #expect(config.limits.idleTimeout == .seconds(60))
        #expect(config.limits.maxConnections == 10_000)
        #expect(config.limits.drainTimeout == .seconds(10))
        #expect(config.storePath == nil)
        #expect(config.accessLog == .stdout)
        #expect(config.warnings.isEmpty)
    }

    @Test func upstreamAndServerDefaults() throws {
        let config = try loadConfig(upstreamU)
        let upstream = try #require(config.upstreams.first)
        #expect(upstream.keepalive == 32)
        #expect(upstream.connectTimeout == .seconds(2))
        #expect(upstream.readTimeout == .seconds(60))
        #expect(upstream.servers == [UpstreamServerConfig(host: "127.0.0.1", port: 1)])
        #expect(upstream.servers.first?.maxFails == 1)
        #expect(upstream.servers.first?.failTimeout == .seconds(10))
    }

    @Test func completeConfiguration() throws {
        let text = """
            listen 127.0.0.1:0;
            listen [::1]:8081;
            listen localhost:8082;
            admin_listen 127.0.0.1:9090;
            workers 4;
            trust_proxies 127.0.0.1 10.0.0.0/8;
            trust_proxies ::1/128;
            store sqlite "/var/lib/gateway/gateway db";
            access_log /var/log/gateway.log;
            limits {
                max_head 32k; max_headers 50; max_body 1g; max_token 4k;
                head_timeout 5s; idle_timeout 2m; max_connections 500; drain_timeout 250ms; send_timeout 30s; tunnel_idle_timeout 1h; body_timeout 15s;
            }
            route /api/v1/sessions/{id} {
                public;
                methods GET DELETE;
                upstream agents;
            }
            upstream agents {
                server 127.0.0.1:9000;
                server [::1]:9001 max_fails=3 fail_timeout=30s;
                keepalive 0;
                connect_timeout 500ms;
                read_timeout 1h; send_timeout 5s; tunnel_idle_timeout 2m;
            }
            route /healthz { public; respond 200 "ok"; }
            route /empty { public; methods POST; respond 204; }
            route /internal/** { deny; }
            route /docs/** { public; strip_prefix /docs; upstream agents; }
            """
        let config = try loadConfig(text)

        var expected = GatewayConfig()
        expected.listen = [
            ListenAddress(host: "127.0.0.1", port: 0), ListenAddress(host: "::1", port: 8081),
            ListenAddress(host: "localhost", port: 8082),
        ]
        expected.adminListen = ListenAddress(host: "127.0.0.1", port: 9090)
        expected.workers = .count(4)
        expected.trustProxies = [
            CIDR(address: [127, 0, 0, 1], prefixLength: 32), CIDR(address: [10, 0, 0, 0], prefixLength: 8),
            CIDR(address: [UInt8](repeating: 0, count: 15) + [1], prefixLength: 128),
        ]
        expected.storePath = "/var/lib/gateway/gateway db"
        expected.accessLog = .file("/var/log/gateway.log")
        expected.limits.maxHeadBytes = 32 * 1024
        expected.limits.maxHeaders = 50
        expected.limits.maxBodyBytes = 1 << 30
        expected.limits.maxTokenBytes = 4 * 1024
        expected.limits.headTimeout = .seconds(5)
        expected.limits.idleTimeout = .seconds(120)
        expected.limits.maxConnections = 500
        expected.limits.drainTimeout = .milliseconds(250)
        expected.limits.sendTimeout = .seconds(30)
        expected.limits.bodyTimeout = .seconds(15)
        expected.limits.tunnelIdleTimeout = .seconds(3600)

        var fast = UpstreamServerConfig(host: "::1", port: 9001)
        fast.maxFails = 3
        fast.failTimeout = .seconds(30)
        var agents = UpstreamConfig(
            name: "agents", servers: [UpstreamServerConfig(host: "127.0.0.1", port: 9000), fast],
            location: GatewayCore.SourceLocation(file: "t.conf", line: 19, column: 1))
        agents.keepalive = 0
        agents.connectTimeout = .milliseconds(500)
        agents.readTimeout = .seconds(3600)
        agents.sendTimeout = .seconds(5)
        agents.tunnelIdleTimeout = .seconds(120)
        expected.upstreams = [agents]

        func route(_ pattern: String, _ action: RouteAction, line: Int) -> RouteConfig {
            var route = RouteConfig(
                pattern: pattern, action: action, location: GatewayCore.SourceLocation(file: "t.conf", line: line, column: 1))
            route.patternLocation = GatewayCore.SourceLocation(file: "t.conf", line: line, column: 7)
            return route
        }
        var sessions = route("/api/v1/sessions/{id}", .upstream("agents"), line: 14)
        sessions.isPublic = true
        sessions.methods = [MethodSet(.get), MethodSet(.head), MethodSet(.delete)]
        var health = route("/healthz", .respond(status: 200, body: "ok"), line: 26)
        health.isPublic = true
        var empty = route("/empty", .respond(status: 204, body: ""), line: 27)
        empty.isPublic = true
        empty.methods = MethodSet(.post)
        let denied = route("/internal/**", .deny, line: 28)
        var docs = route("/docs/**", .upstream("agents"), line: 29)
        docs.isPublic = true
        docs.stripPrefix = "/docs"
        expected.routes = [sessions, health, empty, denied, docs]

        #expect(config == expected)
    }

    @Test func getImpliesHead() throws {
        let config = try loadConfig("route / {\n    methods GET HEAD POST;\n    deny;\n}")
        let methods = try #require(config.routes.first?.methods)
        #expect(methods == [MethodSet(.get), MethodSet(.head), MethodSet(.post)])
        #expect(methods.allowHeaderValue == "GET, HEAD, POST")
        let everything = try loadConfig("route / {\n    methods GET HEAD POST PUT DELETE PATCH OPTIONS TRACE CONNECT;\n    deny;\n}")
        #expect(everything.routes.first?.methods?.contains(.connect) == true)
        #expect(everything.routes.first?.methods?.contains(.other) == false)
    }

    @Test func accessLogModes() throws {
        #expect(try loadConfig("access_log off;").accessLog == .off)
        #expect(try loadConfig("metrics off;").metrics == false)
        #expect(try loadConfig("").metrics == true)
        #expect(try loadConfig("access_log stdout;").accessLog == .stdout)
        #expect(try loadConfig("access_log \"logs/access.json\";").accessLog == .file("logs/access.json"))
        #expect(try loadConfig("access_log file:/var/log/gateway/access.log;").accessLog == .file("/var/log/gateway/access.log"))
    }

    @Test func workersAuto() throws {
        #expect(try loadConfig("workers auto;").workers == .auto)
        #expect(try loadConfig("workers 256;").workers == .count(256))
    }

    @Test func portZeroListenersMayRepeat() throws {
        let config = try loadConfig("listen 127.0.0.1:0;\nlisten 127.0.0.1:0;\nadmin_listen 127.0.0.1:0;")
        #expect(config.listen.count == 2)
    }

    @Test func routesMayReferenceUpstreamsDefinedLater() throws {
        let config = try loadConfig("route / {\n    public;\n    upstream later;\n}\nupstream later {\n    server 127.0.0.1:5;\n}")
        #expect(config.routes.first?.action == .upstream("later"))
    }

    @Test func everyProblemIsReportedSortedByPosition() {
        let text = """
            upstream u {
                keepalive x;
            }
            workers 0;
            route /a {
                upstream missing;
            }
            bogus;
            limits { max_head 0; head_timeout 5; }
            listen 0.0.0.0:80 tls;
            """
        let errors = configErrors(text)
        #expect(errors.map(\.description) == [
            "t.conf:1:1: upstream \"u\" needs at least one \"server\"",
            "t.conf:2:15: invalid number \"x\"",
            "t.conf:4:9: 0 is out of range 1...256",
            "t.conf:5:1: route requires authentication: configure `jwt`, `api_keys` or `introspection`, or add `public;`",
            "t.conf:6:14: unknown upstream \"missing\"",
            "t.conf:8:1: unknown directive \"bogus\"",
            "t.conf:9:19: size must be greater than 0",
            "t.conf:9:35: duration \"5\" needs a unit: ms, s, m, h or d",
            "t.conf:10:1: \"listen\" needs a block { ... }",
        ])
    }

    @Test func exampleFileLoads() throws {
        // #filePath = <root>/Tests/GatewayCoreTests/ConfigValidationTests.swift
        let root = ConfigFiles.directory(of: ConfigFiles.directory(of: ConfigFiles.directory(of: #filePath)))
        let config = try ConfigLoader.load(path: root + "/gateway.conf.example", environment: [:])
        #expect(config.warnings.isEmpty)
        #expect(config.listen == [ListenAddress(host: "127.0.0.1", port: 8080)])
        #expect(config.adminListen == ListenAddress(host: "127.0.0.1", port: 9090))
        #expect(config.upstreams.map(\.name) == ["agents", "docs"])
        #expect(config.routes.map(\.pattern) == [
            "/healthz", "/api/v1/**", "/api/v1/sessions", "/api/v1/sessions/{id}", "/api/v1/orgs/{org}/memory/**",
            "/api/v1/admin/**", "/api/v1/sessions/*/events", "/api/v1/legacy/**", "/docs/**", "/api/v1/stream/**",
            "/internal/**", "/teapot",
        ])
        #expect(config.roles.map(\.name) == ["reader", "writer", "admin"])
        #expect(config.routes.contains { $0.matchClaims == [ClaimMatch(claim: .orgID, parameter: "org")] })
        #expect(config.routes.contains { $0.allowQueryToken })
        #expect(config.apiKeys?.legacyPrefixes == ["ck_", "sk-"])
        #expect(config.routes.contains { $0.auth == .optional })
        #expect(config.routes.contains { $0.forwardCredentials })
        #expect(config.routes.contains { $0.action == .deny })
        #expect(config.routes.contains { $0.stripPrefix == "/docs" })
        #expect(config.routes.contains { $0.action == .respond(status: 418, body: "I'm a teapot; \"short and stout\"") })
        #expect(config.limits == LimitsConfig())
    }
}
