import GatewayCore
import Testing

@Suite("RoutePattern")
struct RoutePatternTests {
    typealias Segment = RoutePattern.Segment

    static func lit(_ text: String) -> Segment { .literal(Array(text.utf8)) }

    static let valid: [(String, [Segment])] = [
        ("/", []),
        ("/a", [lit("a")]),
        ("/a/b", [lit("a"), lit("b")]),
        ("/users/{id}", [lit("users"), .parameter("id")]),
        ("/{_x1}/{Y}", [.parameter("_x1"), .parameter("Y")]),
        ("/a/*", [lit("a"), .wildcard]),
        ("/a/**", [lit("a"), .catchAll]),
        ("/**", [.catchAll]),
        ("/*/**", [.wildcard, .catchAll]),
        ("/a/{x}/*/**", [lit("a"), .parameter("x"), .wildcard, .catchAll]),
        ("/.well-known/openid-configuration", [lit(".well-known"), lit("openid-configuration")]),
        ("/...", [lit("...")]),
        ("/a:b@c;v=1", [lit("a:b@c;v=1")]),
        // Literals are stored in the canonical form requests are normalized to.
        ("/%7euser", [lit("~user")]),
        ("/caf%c3%a9", [lit("caf%C3%A9")]),
        ("/%2A", [lit("%2A")]),
    ]

    @Test("valid patterns", arguments: valid)
    func parses(_ text: String, _ segments: [Segment]) throws {
        let pattern = try RoutePattern(text)
        #expect(pattern.segments == segments)
        #expect(pattern.description == text)
    }

    /// Invalid pattern → a fragment the message must contain.
    static let invalid: [(String, String)] = [
        ("", "must start with '/'"),
        ("a/b", "must start with '/'"),
        ("*", "must start with '/'"),
        ("/a/", "must not end with '/'"),
        ("//a", "empty segment"),
        ("/a//b", "empty segment"),
        ("//", "empty segment"),
        ("/a*b", "'*' and '**' must be whole segments"),
        ("/a/***", "'*' and '**' must be whole segments"),
        ("/*x", "'*' and '**' must be whole segments"),
        ("/{x}y", "a parameter must be a whole segment"),
        ("/x{y}", "a parameter must be a whole segment"),
        ("/{x", "a parameter must be a whole segment"),
        ("/x}", "a parameter must be a whole segment"),
        ("/{x}{y}", "invalid parameter name"),
        ("/{}", "a parameter needs a name"),
        ("/{1x}", "invalid parameter name"),
        ("/{a-b}", "invalid parameter name"),
        ("/{*}", "invalid parameter name"),
        ("/{a}/{a}", "parameter '{a}' is used more than once"),
        ("/**/a", "'**' is only allowed as the last segment"),
        ("/a/**/**", "'**' is only allowed as the last segment"),
        ("/.", "'.' and '..' segments are not allowed"),
        ("/a/..", "'.' and '..' segments are not allowed"),
        ("/a/../b", "'.' and '..' segments are not allowed"),
        ("/%2e%2E", "'.' and '..' segments are not allowed"),
        ("/a%2fb", "an encoded '/' (%2F) is not allowed"),
        ("/a\\b", "'\\' is not allowed"),
        ("/a%5cb", "'\\' (%5C) is not allowed"),
        ("/a%zz", "'%' must be followed by two hexadecimal digits"),
        ("/a%4", "'%' must be followed by two hexadecimal digits"),
        ("/a%00", "control characters are not allowed"),
        ("/a%0A", "control characters are not allowed"),
        ("/a b", "invalid character 0x20; percent-encode it"),
        ("/a|b", "invalid character '|'; percent-encode it"),
        ("/a#b", "invalid character '#'"),
        ("/é", "invalid character 0xC3"),
        ("/a?b", "'?' (a query) is not allowed"),
    ]

    @Test("invalid patterns", arguments: invalid)
    func rejects(_ text: String, _ fragment: String) {
        #expect {
            _ = try RoutePattern(text)
        } throws: { error in
            guard let error = error as? RoutePatternError else { return false }
            return error.message.contains(fragment)
        }
    }

    @Test("messages quote the pattern and the offending segment")
    func messages() {
        #expect(Self.message("/a/") == "route pattern '/a/' must not end with '/': write '/a' for the path itself or '/a/**' for everything below it")
        #expect(Self.message("/api/{id}x/b") == "route pattern '/api/{id}x/b': segment '{id}x': a parameter must be a whole segment, written '{name}'")
        #expect(Self.message("/a/**/b") == "route pattern '/a/**/b': '**' is only allowed as the last segment")
        #expect(Self.message("api") == "route pattern 'api' must start with '/'")
    }

    static func message(_ text: String) -> String? {
        do {
            _ = try RoutePattern(text)
            return nil
        } catch {
            return error.message
        }
    }
}
