import Testing

@testable import GatewayCore

@Suite("Config validation: decision_endpoint")
struct DecisionEndpointConfigTests {
    @Test func defaultsToGatewayAuth() throws {
        let config = try loadConfig("route /x { deny; }\n")
        #expect(config.decisionEndpoint == "/_gateway/auth")
    }

    @Test(arguments: ["/_gateway/auth", "/auth", "/", "/a/b/", "/check-%3A"])
    func acceptsNormalizedPaths(path: String) throws {
        let config = try loadConfig("decision_endpoint \(path);\nroute /x { deny; }\n")
        #expect(config.decisionEndpoint == path)
    }

    @Test func offDisablesIt() throws {
        let config = try loadConfig("decision_endpoint off;\nroute /x { deny; }\n")
        #expect(config.decisionEndpoint == nil)
    }

    @Test(arguments: [
        ErrorCase("decision_endpoint auth;", at: "1:19", "path \"auth\" must start with \"/\""),
        ErrorCase("decision_endpoint \"\";", at: "1:19", "must start with \"/\""),
        ErrorCase("decision_endpoint /a?b=1;", at: "1:19", "must not have a query"),
        ErrorCase("decision_endpoint /a//b;", at: "1:19", "is not normalized; write \"/a/b\""),
        ErrorCase("decision_endpoint /a/../b;", at: "1:19", "is not normalized; write \"/b\""),
        ErrorCase("decision_endpoint /%7Eme;", at: "1:19", "is not normalized; write \"/~me\""),
        ErrorCase("decision_endpoint /a%2Fb;", at: "1:19", "refused by path normalization (path_encodedSlash)"),
        ErrorCase("decision_endpoint /..;", at: "1:19", "refused by path normalization (path_escapesRoot)"),
        ErrorCase("decision_endpoint;", at: "1:1", "missing argument for \"decision_endpoint\" (expected 1 argument)"),
        ErrorCase("decision_endpoint /a /b;", at: "1:22", "too many arguments for \"decision_endpoint\""),
        ErrorCase("decision_endpoint /a;\ndecision_endpoint /b;", at: "2:1", "duplicate \"decision_endpoint\" (first at t.conf:1:1)"),
        ErrorCase("route /x { decision_endpoint /a; deny; }", at: "1:12", "\"decision_endpoint\" is not allowed inside \"route\""),
    ])
    func errors(item: ErrorCase) {
        expectSingleError(item)
    }
}
