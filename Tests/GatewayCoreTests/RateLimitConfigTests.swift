import Testing

@testable import GatewayCore

@Suite("Config validation: rate_limit and auth_failure_limit")
struct RateLimitConfigTests {
    private static let route = "route / {\n    public;\n    respond 200;\n"

    @Test func defaults() throws {
        let config = try loadConfig("workers 1;")
        #expect(config.rateLimit == nil)
        #expect(config.authFailureLimit == Rate(count: 20, period: .seconds(60), burst: 20))
        #expect(try loadConfig(Self.route + "}").routes[0].rateLimit == .inherit)
    }

    @Test func parsed() throws {
        let config = try loadConfig("""
            rate_limit 600/min burst=100;
            auth_failure_limit 5/min;
            route /a {
                public;
                respond 200;
                rate_limit 100/min;
            }
            route /b {
                public;
                respond 200;
                rate_limit off;
            }
            """)
        #expect(config.rateLimit == Rate(count: 600, period: .seconds(60), burst: 100))
        #expect(config.authFailureLimit == Rate(count: 5, period: .seconds(60)))
        #expect(config.routes.map(\.rateLimit) == [.rate(Rate(count: 100, period: .seconds(60))), .off])
        #expect(try loadConfig("auth_failure_limit off;").authFailureLimit == nil)
        #expect(try loadConfig("auth_failure_limit 3/s burst=9;").authFailureLimit == Rate(count: 3, period: .seconds(1), burst: 9))
    }

    @Test(arguments: [
        ErrorCase("rate_limit;", at: "1:1", "missing argument for \"rate_limit\" (expected 1 to 2 arguments)"),
        ErrorCase("rate_limit 10/s burst=2 x;", at: "1:25", "too many arguments for \"rate_limit\""),
        ErrorCase("rate_limit 10/s { }", at: "1:17", "\"rate_limit\" does not take a block"),
        ErrorCase("rate_limit 10/x;", at: "1:12", "invalid rate period \"x\""),
        ErrorCase("rate_limit 10/m;", at: "1:12", "write /min for minutes"),
        ErrorCase("rate_limit 0/s;", at: "1:12", "must allow at least 1 request"),
        ErrorCase("rate_limit ten;", at: "1:12", "invalid rate \"ten\""),
        ErrorCase("rate_limit 2000000000/s;", at: "1:12", "is too large (at most 1000000000 per period)"),
        ErrorCase("rate_limit 10/s burst=0;", at: "1:17", "invalid burst \"0\""),
        ErrorCase("rate_limit 10/s burst=2000000000;", at: "1:17", "invalid burst \"2000000000\""),
        ErrorCase("rate_limit 10/s 5;", at: "1:17", "unexpected \"5\" after a rate; expected burst=N"),
        ErrorCase("rate_limit off;", at: "1:12", "top-level \"rate_limit\" needs a rate; leave it out for no default limit"),
        ErrorCase("rate_limit 1/s;\nrate_limit 2/s;", at: "2:1", "duplicate \"rate_limit\" (first at t.conf:1:1)"),
        ErrorCase("auth_failure_limit;", at: "1:1", "missing argument for \"auth_failure_limit\""),
        ErrorCase("auth_failure_limit off burst=2;", at: "1:24", "\"auth_failure_limit off\" takes no burst"),
        ErrorCase("auth_failure_limit on;", at: "1:20", "invalid rate \"on\""),
        ErrorCase("auth_failure_limit off;\nauth_failure_limit 1/s;", at: "2:1", "duplicate \"auth_failure_limit\""),
        ErrorCase("route / {\n    deny;\n    auth_failure_limit 1/s;\n}", at: "3:5",
                  "\"auth_failure_limit\" is not allowed inside \"route\"; it belongs at top level"),
        ErrorCase(route + "    rate_limit 5/h burst=x;\n}", at: "4:20", "invalid burst \"x\""),
        ErrorCase(route + "    rate_limit off 5;\n}", at: "4:20", "\"rate_limit off\" takes no burst"),
        ErrorCase(route + "    rate_limit;\n}", at: "4:5", "missing argument for \"rate_limit\""),
        ErrorCase(route + "    rate_limit 5/h;\n    rate_limit off;\n}", at: "5:5", "duplicate \"rate_limit\" (first at t.conf:4:5)"),
        ErrorCase("limits {\n    rate_limit 1/s;\n}", at: "2:5", "\"rate_limit\" is not allowed inside \"limits\"; it belongs at top level"),
        ErrorCase("rate_limit_store redis://x:1;", at: "1:1", "\"rate_limit_store\" is not supported yet"),
    ])
    func errors(item: ErrorCase) {
        expectSingleError(item)
    }
}
