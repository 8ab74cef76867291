import GatewayHTTP
@testable import GatewayCore
import Testing

/// `?access_token=` parsing and removal (SPEC §4 `allow_query_token`).
@Suite("Query token")
struct QueryTokenTests {
    func values(_ query: String) -> [String] {
        let bytes = Array(query.utf8)
        return bytes.withUnsafeBytes { raw in
            QueryToken.values(in: ByteRange(start: 0, count: bytes.count), raw).map {
                String(decoding: raw[$0.start..<$0.start + $0.count], as: UTF8.self)
            }
        }
    }

    func stripped(_ query: String) -> String {
        let bytes = Array(query.utf8)
        var out: [UInt8] = []
        bytes.withUnsafeBytes { QueryToken.appendWithoutToken(ByteRange(start: 0, count: bytes.count), $0, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    @Test(arguments: [
        ("access_token=abc", ["abc"]),
        ("a=1&access_token=abc&b=2", ["abc"]),
        ("access_token=", [""]),
        ("access_token", [""]),
        ("access_token=a&access_token=b&access_token=c", ["a", "b"]),
        ("xaccess_token=a&access_tokens=b&Access_Token=c", []),
        ("a=access_token=x", []),
        ("", []),
    ])
    func findsValues(_ query: String, _ expected: [String]) {
        #expect(values(query) == expected)
    }

    @Test(arguments: [
        ("access_token=abc", ""),
        ("a=1&access_token=abc&b=2", "?a=1&b=2"),
        ("access_token=abc&b=2", "?b=2"),
        ("b=2&access_token", "?b=2"),
        ("a=1&&b=", "?a=1&b="),
        ("access_tokens=x", "?access_tokens=x"),
    ])
    func stripsTheToken(_ query: String, _ expected: String) {
        #expect(stripped(query) == expected)
    }

    @Test("percent-decoding; a malformed escape is refused")
    func decoding() {
        let decode = { (text: String) in Array(text.utf8).withUnsafeBytes { QueryToken.decode($0) }.map { String(decoding: $0, as: UTF8.self) } }
        #expect(decode("gw_a%5Fb") == "gw_a_b")
        #expect(decode("a+b") == "a+b")
        #expect(decode("%4") == nil && decode("%zz") == nil && decode("abc%") == nil)
    }
}
