import GatewayHTTP
import Testing

@testable import GatewayCore

/// Parses a request head made of `headers` and reads the original request from it.
private func read(_ headers: [(String, String)]) -> (Result<OriginalRequest, OriginalRequest.Failure>, [UInt8])? {
    var text = "GET /_gateway/auth HTTP/1.1\r\nHost: gw\r\n"
    for (name, value) in headers { text += "\(name): \(value)\r\n" }
    text += "\r\n"
    let bytes = Array(text.utf8)
    var parser = RequestHeadParser(maxHeadBytes: 16 * 1024, maxHeaderCount: 100)
    var head = RequestHead()
    let result: Result<OriginalRequest, OriginalRequest.Failure>? = bytes.withUnsafeBytes { raw in
        guard (try? parser.parse(raw, into: &head)) == true else { return nil }
        return OriginalRequest.read(head.headers, raw)
    }
    return result.map { ($0, bytes) }
}

private func text(_ range: ByteRange?, _ bytes: [UInt8]) -> String? {
    range.map { String(decoding: bytes[$0.start..<$0.start + $0.count], as: UTF8.self) }
}

@Suite("Decision endpoint: the original request")
struct OriginalRequestTests {
    @Test func nginxStyle() throws {
        let (result, bytes) = try #require(read([("X-Original-URI", "/api/v1/x?access_token=abc&b=2"), ("X-Original-Method", "POST")]))
        let original = try result.get()
        #expect(original.style == .nginx)
        #expect(original.method == .post)
        #expect(text(original.path, bytes) == "/api/v1/x")
        #expect(text(original.query, bytes) == "access_token=abc&b=2")
    }

    @Test func forwardedStyleWithHost() throws {
        let (result, bytes) = try #require(read([
            ("x-forwarded-method", "DELETE"), ("X-Forwarded-Uri", "/a/b"), ("X-Forwarded-Host", "api.example"),
        ]))
        let original = try result.get()
        #expect(original.style == .forwarded)
        #expect(original.method == .delete)
        #expect(text(original.path, bytes) == "/a/b")
        #expect(original.query == nil)
    }

    @Test func unregisteredMethodIsOther() throws {
        let (result, _) = try #require(read([("X-Original-URI", "/"), ("X-Original-Method", "PROPFIND")]))
        #expect(try result.get().method == .other)
    }

    @Test(arguments: [
        ("http://api.example/x/y?q", "/x/y", "q"),
        ("HTTPS://api.example:8443/x", "/x", nil),
        ("http://api.example", "", nil),
        ("http://api.example?q=1", "", "q=1"),
        ("/?", "/", ""),
    ] as [(String, String, String?)])
    func targets(uri: String, path: String, query: String?) throws {
        let (result, bytes) = try #require(read([("X-Original-URI", uri), ("X-Original-Method", "GET")]))
        let original = try result.get()
        #expect(text(original.path, bytes) == path)
        #expect(text(original.query, bytes) == query)
    }

    @Test(arguments: [
        ([("X-Original-Method", "GET")], OriginalRequest.Failure.missingURI),
        ([], .missingURI),
        ([("X-Forwarded-Host", "h"), ("X-Forwarded-Proto", "https")], .missingURI),
        ([("X-Original-URI", "/")], .missingMethod),
        ([("X-Forwarded-Uri", "/")], .missingMethod),
        ([("X-Original-URI", "/"), ("X-Original-URI", "/admin"), ("X-Original-Method", "GET")], .ambiguous),
        ([("X-Original-URI", "/"), ("X-Original-Method", "GET"), ("X-Original-Method", "POST")], .ambiguous),
        ([("X-Forwarded-Uri", "/"), ("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/admin")], .ambiguous),
        // A client behind Caddy may add X-Original-URI; behind nginx, X-Forwarded-Uri: never pick one.
        ([("X-Forwarded-Uri", "/public"), ("X-Forwarded-Method", "GET"), ("X-Original-URI", "/admin")], .ambiguous),
        ([("X-Original-URI", "/"), ("X-Original-Method", "GET"), ("X-Forwarded-Method", "GET")], .ambiguous),
        ([("X-Original-URI", "/"), ("X-Original-Method", "G(T")], .badMethod),
        ([("X-Original-URI", "/"), ("X-Original-Method", "")], .badMethod),
        ([("X-Original-URI", ""), ("X-Original-Method", "GET")], .badTarget),
        ([("X-Original-URI", "*"), ("X-Original-Method", "GET")], .badTarget),
        ([("X-Original-URI", "api/x"), ("X-Original-Method", "GET")], .badTarget),
        ([("X-Original-URI", "ftp://h/x"), ("X-Original-Method", "GET")], .badTarget),
        ([("X-Original-URI", "http:///x"), ("X-Original-Method", "GET")], .badTarget),
        ([("X-Original-URI", "/x#frag"), ("X-Original-Method", "GET")], .badTarget),
        ([("X-Original-URI", "/x?a#frag"), ("X-Original-Method", "GET")], .badTarget),
    ] as [([(String, String)], OriginalRequest.Failure)])
    func refusals(headers: [(String, String)], failure: OriginalRequest.Failure) throws {
        let (result, _) = try #require(read(headers))
        #expect(throws: failure) { try result.get() }
    }
}
