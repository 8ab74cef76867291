import GatewayCore
import Testing

@Suite("PathNormalizer")
struct PathNormalizerTests {
    /// One row of the normalization table: raw input bytes → normalized path or error.
    struct Case: Sendable, CustomTestStringConvertible {
        var input: [UInt8]
        var expected: Result<String, PathError>

        init(_ input: String, _ output: String) {
            self.input = Array(input.utf8)
            expected = .success(output)
        }

        init(_ input: String, _ error: PathError) {
            self.input = Array(input.utf8)
            expected = .failure(error)
        }

        init(bytes: [UInt8], _ expected: Result<String, PathError>) {
            input = bytes
            self.expected = expected
        }

        var testDescription: String {
            let shown = input.map { $0 >= 0x21 && $0 <= 0x7E ? String(UnicodeScalar($0)) : "<\($0)>" }.joined()
            switch expected {
            case .success(let path): return "\(shown) → \(path)"
            case .failure(let error): return "\(shown) → .\(error)"
            }
        }
    }

    static let cases: [Case] = [
        // Already canonical.
        Case("/", "/"),
        Case("/a", "/a"),
        Case("/a/b/c", "/a/b/c"),
        Case("/a:b@c!$&'()*+,;=", "/a:b@c!$&'()*+,;="),
        Case("/~user/", "/~user/"),
        // Repeated slashes are merged.
        Case("//", "/"),
        Case("//a///b", "/a/b"),
        Case("/a//", "/a/"),
        // Dot segments.
        Case("/a/./b", "/a/b"),
        Case("/a/b/../c", "/a/c"),
        Case("/a/b/c/../../d", "/a/d"),
        Case("/a/../b/../c", "/c"),
        Case("/a/./../b", "/b"),
        Case("/./", "/"),
        Case("/.", "/"),
        Case("/a/.", "/a/"),
        Case("/a/..", "/"),
        Case("/a/b/..", "/a/"),
        Case("/a/b/../", "/a/"),
        Case("/..", .escapesRoot),
        Case("/../a", .escapesRoot),
        Case("/a/../..", .escapesRoot),
        Case("/a/../../b", .escapesRoot),
        // Dot segments are recognized after decoding.
        Case("/%2e%2e/x", .escapesRoot),
        Case("/%2E%2e", .escapesRoot),
        Case("/a/%2e./..", .escapesRoot),
        Case("/%2e", "/"),
        Case("/a/%2E/b", "/a/b"),
        Case("/a/.%2e/b", "/b"),
        // A dot segment with a `;parameter` suffix (Tomcat-style upstreams resolve it): refused.
        Case("/stream/..;/sessions/1", .dotSegmentWithParameter),
        Case("/stream/%2e%2e;/sessions/1", .dotSegmentWithParameter),
        Case("/stream/%2E.;x=1/a", .dotSegmentWithParameter),
        Case("/a/.;x=1/b", .dotSegmentWithParameter),
        Case("/x/..;jsessionid=1", .dotSegmentWithParameter),
        Case("/..;", .dotSegmentWithParameter),
        Case("/a/;x/b", "/a/;x/b"),
        Case("/a/...;x", "/a/...;x"),
        Case("/a/..%3B/b", "/a/..%3B/b"),
        Case("/a/b;c=1/d", "/a/b;c=1/d"),
        Case("/a/.x;y", "/a/.x;y"),
        // Names that merely contain dots are ordinary segments.
        Case("/.hidden", "/.hidden"),
        Case("/a/.well-known/x", "/a/.well-known/x"),
        Case("/...", "/..."),
        Case("/%2e%2e%2e", "/..."),
        Case("/a/..b", "/a/..b"),
        Case("/a/b./c", "/a/b./c"),
        // Trailing slashes are kept.
        Case("/a/b/", "/a/b/"),
        Case("/a/b//", "/a/b/"),
        // Unreserved escapes are decoded; others are kept with uppercase hex.
        Case("/%41", "/A"),
        Case("/%7e", "/~"),
        Case("/%5F%2D%30%61", "/_-0a"),
        Case("/%3a", "/%3A"),
        Case("/a%20b", "/a%20b"),
        Case("/caf%c3%a9", "/caf%C3%A9"),
        Case("/%25", "/%25"),
        Case("/a/%252e%252e/b", "/a/%252e%252e/b"),  // no double decoding
        Case("/users/%7bid%7D", "/users/%7Bid%7D"),
        // Raw bytes outside `pchar` are percent-encoded (defence in depth).
        Case("/a b", "/a%20b"),
        Case("/a/b|c", "/a/b%7Cc"),
        Case("/a[0]", "/a%5B0%5D"),
        Case(bytes: [0x2F, 0x63, 0x61, 0x66, 0xC3, 0xA9], .success("/caf%C3%A9")),
        // Encoded separators.
        Case("/a%2fb", .encodedSlash),
        Case("/a%2Fb", .encodedSlash),
        Case("/a%5Cb", .backslash),
        Case("/a%5cb", .backslash),
        Case("/a\\b", .backslash),
        Case("/\\", .backslash),
        // NUL and control characters, raw or encoded.
        Case("/%00", .nul),
        Case(bytes: [0x2F, 0x61, 0x00], .failure(.nul)),
        Case("/%0a", .controlCharacter),
        Case("/%0D%0A", .controlCharacter),
        Case("/%1F", .controlCharacter),
        Case("/%7f", .controlCharacter),
        Case(bytes: [0x2F, 0x61, 0x0A], .failure(.controlCharacter)),
        Case(bytes: [0x2F, 0x09], .failure(.controlCharacter)),
        Case(bytes: [0x2F, 0x7F], .failure(.controlCharacter)),
        // Invalid percent-encoding.
        Case("/%zz", .invalidPercentEncoding),
        Case("/%4", .invalidPercentEncoding),
        Case("/%", .invalidPercentEncoding),
        Case("/a%g1", .invalidPercentEncoding),
        Case("/a%1", .invalidPercentEncoding),
        Case("/%%41", .invalidPercentEncoding),
        // Not absolute.
        Case("", .notAbsolute),
        Case("a/b", .notAbsolute),
        Case("*", .notAbsolute),
        Case("%2F", .notAbsolute),
    ]

    @Test(
        "normalization table", .bug(id: "SPEC-4", "encoded separators, controls and root escapes are refused"),
        arguments: cases)
    func normalizes(_ row: Case) {
        #expect(Self.normalize(row.input) == row.expected)
    }

    @Test("the output of a successful normalization is a fixed point", arguments: cases)
    func idempotent(_ row: Case) throws {
        guard case .success(let once) = row.expected else { return }
        #expect(Self.normalize(Array(once.utf8)) == .success(once))
    }

    @Test("the output array is cleared and its capacity reused")
    func reusesOutput() throws {
        var output: [UInt8] = []
        try Self.normalize(Array("/a/very/long/path/with/several/segments/and/more".utf8), into: &output).get()
        let capacity = output.capacity
        try Self.normalize(Array("/x".utf8), into: &output).get()
        #expect(output == Array("/x".utf8))
        #expect(output.capacity >= capacity)
    }

    @Test("segment parameters are removed for routing as Tomcat-style servers read the path", arguments: [
        ("/api/admin;x/y", "/api/admin/y"), ("/a;x=1/b;y", "/a/b"), ("/a/;x/b", "/a/b"), ("/;x", "/"),
        ("/a/b;", "/a/b"), ("/a/b;x/", "/a/b/"), ("/plain/path", "/plain/path"),
    ])
    func segmentParameters(_ path: String, _ routed: String) {
        var output: [UInt8] = [0x58]
        PathNormalizer.removeSegmentParameters(Array(path.utf8), into: &output)
        #expect(String(decoding: output, as: UTF8.self) == routed)
    }

    @Test("dot segments in a raw path, written with `.` or `%2e`", arguments: [
        ("/a/../b", true), ("/a/./b", true), ("/a/..", true), ("/..", true), ("/a/%2e%2E/b", true), ("/a/.%2e", true),
        ("/a/%2e", true), ("/a/.../b", false), ("/a/.b/c", false), ("/a/b..", false), ("/a/%2e%2e%2e", false),
        ("/a/%2f/b", false), ("/", false), ("/a//b", false), ("/a/%2", false),
    ])
    func dotSegments(_ path: String, _ expected: Bool) {
        #expect(Array(path.utf8).withUnsafeBytes { PathNormalizer.hasDotSegment($0) } == expected)
    }

    @Test("every error has a stable reason")
    func reasons() {
        #expect(PathError.escapesRoot.reason == "path_escapesRoot")
        #expect(PathError.encodedSlash.reason == "path_encodedSlash")
    }

    static func normalize(_ input: [UInt8]) -> Result<String, PathError> {
        var output: [UInt8] = [0x58, 0x58]  // stale content must be cleared
        return normalize(input, into: &output).map { String(decoding: output, as: UTF8.self) }
    }

    // A non-throwing closure returning `Result`: a `throws(PathError)` closure passed to
    // `withUnsafeBytes` crashes the 6.3.1 compiler in IRGen (reabstraction thunk).
    static func normalize(_ input: [UInt8], into output: inout [UInt8]) -> Result<Void, PathError> {
        input.withUnsafeBytes { raw in
            Result { () throws(PathError) in try PathNormalizer.normalize(raw, into: &output) }
        }
    }
}
