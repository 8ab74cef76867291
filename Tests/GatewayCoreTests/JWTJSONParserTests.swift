import Testing

@testable import GatewayCore

@Suite("JWT JSON parser")
struct JWTJSONParserTests {
    private func parse(_ text: String, maxDepth: Int = 32) -> Result<JSONValue, JSONParseError> {
        JSONParser.parse(Array(text.utf8), maxDepth: maxDepth)
    }

    private func value(_ text: String) -> JSONValue? {
        if case .success(let value) = parse(text) { return value }
        return nil
    }

    private func kind(_ text: String) -> JSONParseError.Kind? {
        if case .failure(let error) = parse(text) { return error.kind }
        return nil
    }

    @Test func parsesAllValueKindsInOrder() {
        let parsed = value(#" { "b" : [1, -2.5, 3e2, true, false, null] , "a":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "c":{} } "#)
        #expect(parsed == .object([
            ("b", .array([.number(1, exact: 1), .number(-2.5, exact: nil), .number(300, exact: nil), .bool(true), .bool(false), .null])),
            ("a", .string("x\"\\/\u{08}\u{0C}\n\r\té😀")),
            ("c", .object([])),
        ]))
    }

    @Test func numbers() {
        #expect(value("0") == .number(0, exact: 0))
        #expect(value("-0") == .number(-0.0, exact: 0))
        #expect(value("9223372036854775807") == .number(Double(Int64.max), exact: .max))
        #expect(value("-9223372036854775808") == .number(-9223372036854775808, exact: .min))
        #expect(value("9223372036854775808") == .number(9223372036854775808, exact: nil))
        #expect(value("1.5E-3") == .number(0.0015, exact: nil))
        #expect(kind("1e400") == .numberOutOfRange)
    }

    @Test("rejects non-RFC 8259 syntax", arguments: [
        "[1,]", "{\"a\":1,}", "[1 2]", "// c\n1", "/* c */ 1", "01", "-01", "1.", ".5", "1e", "+1", "-",
        "NaN", "Infinity", "'a'", "tru", "nul", "[", "{", "{\"a\"}", "{\"a\" 1}", "{a:1}", "1 1", "\u{0B}1", "",
        "[1]x", "{,}", "[,1]",
    ])
    func rejectsSyntax(text: String) {
        #expect(kind(text) == .syntax)
    }

    @Test("rejects bad strings", arguments: [
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"a\u{01}\"", "\"tab\there\"",
        "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"abc", "\"\\",
    ])
    func rejectsBadStrings(text: String) {
        #expect(kind(text) == .invalidString)
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0x5C, 0x6E, 0xC3, 0x22]] {
            guard case .failure(let error) = JSONParser.parse(bytes) else {
                Issue.record("accepted \(bytes)")
                continue
            }
            #expect(error.kind == .invalidString)
        }
    }

    @Test("duplicate keys are rejected", .bug(id: "RFC7515-5.2", "duplicate header parameter names"))
    func rejectsDuplicateKeys() {
        #expect(kind(#"{"alg":"HS256","alg":"none"}"#) == .duplicateKey)
        #expect(kind(#"{"a":{"x":1,"x":2}}"#) == .duplicateKey)
        // Escaped spelling of the same key is the same key.
        #expect(kind(#"{"alg":1,"\u0061lg":2}"#) == .duplicateKey)
        // Large objects use the set path.
        let many = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(value("{" + many + "}") != nil)
        #expect(kind("{" + many + ",\"k7\":1}") == .duplicateKey)
    }

    @Test func depthLimit() {
        let deep32 = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        let deep33 = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(value(deep32) != nil)
        #expect(kind(deep33) == .tooDeep)
        let objects33 = String(repeating: "{\"a\":", count: 33) + "1" + String(repeating: "}", count: 33)
        #expect(kind(objects33) == .tooDeep)
        // Hostile depth far beyond the limit fails fast without recursion trouble.
        let hostile = Array(String(repeating: "[", count: 100_000).utf8)
        guard case .failure(let error) = JSONParser.parse(hostile, maxBytes: 200_000) else {
            Issue.record("accepted")
            return
        }
        #expect(error.kind == .tooDeep)
        #expect(error.offset == 32)
    }

    @Test func sizeLimit() {
        let big = "\"" + String(repeating: "a", count: 9000) + "\""
        #expect(kind(big) == .tooLarge)
        #expect(JSONParser.parse(Array(big.utf8), maxBytes: 10_000).map { _ in true } == .success(true))
    }
}
