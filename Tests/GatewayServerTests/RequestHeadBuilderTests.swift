import GatewayCore
import GatewayHTTP
import GatewaySupport
import Testing
import GatewayServer

/// The upstream head is where spoofing is stopped (SPEC §8): these tests drive the builder
/// with parsed heads, no sockets.
@Suite("Upstream request head")
struct RequestHeadBuilderTests {
    /// Parses `raw` and builds the upstream head for it.
    func build(_ raw: String, path: String = "/api/x", peer: String = "10.1.2.3", trusted: Bool = false, websocket: Bool = false) throws -> String {
        var parser = RequestHeadParser()
        var head = RequestHead()
        let bytes = Array(raw.utf8)
        let complete = try bytes.withUnsafeBytes { buffer in try parser.parse(buffer, into: &head) }
        #expect(complete)
        var builder = RequestHeadBuilder()
        var out: [UInt8] = []
        bytes.withUnsafeBytes { buffer in
            builder.build(
                head: head, bytes: buffer, path: Array(path.utf8), peer: Array(peer.utf8), peerTrusted: trusted,
                requestID: Array("rid-1".utf8), upstreamAuthority: "127.0.0.1:9000", websocket: websocket, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    func lines(_ head: String) -> [String] { head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init) }

    @Test("identity headers in every spelling are stripped", .bug(id: "SPEC-8"))
    func identityStripped() throws {
        let head = try build("GET /api/x HTTP/1.1\r\nHost: h\r\nX-Auth-User-Id: evil\r\nx_auth_roles: admin\r\nX-AUTH-Email: e\r\nX-Keep: 1\r\n\r\n")
        #expect(!head.lowercased().contains("auth"))
        #expect(lines(head).contains("X-Keep: 1"))
    }

    @Test("credentials are removed on public routes")
    func credentialsStripped() throws {
        let head = try build("GET /x HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer secret\r\nProxy-Authorization: Basic x\r\n\r\n")
        #expect(!head.contains("secret"))
        #expect(!head.contains("Proxy-Authorization"))
    }

    @Test("hop-by-hop headers and the ones Connection names are removed")
    func hopByHop() throws {
        let head = try build("GET /x HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Secret-Hop\r\nKeep-Alive: 5\r\nTE: trailers\r\nX-Secret-Hop: 1\r\nUpgrade: h2c\r\nX-Other: 2\r\n\r\n")
        for removed in ["Connection:", "Keep-Alive:", "TE:", "X-Secret-Hop:", "Upgrade:"] {
            #expect(!head.contains(removed), "\(removed) leaked")
        }
        #expect(lines(head).contains("X-Other: 2"))
    }

    @Test("a client cannot remove gateway headers through Connection")
    func connectionCannotRemoveInjected() throws {
        let head = try build("GET /x HTTP/1.1\r\nHost: h\r\nConnection: X-Forwarded-For, X-Request-Id\r\n\r\n")
        #expect(lines(head).contains("X-Forwarded-For: 10.1.2.3"))
        #expect(lines(head).contains("X-Request-Id: rid-1"))
    }

    @Test("an untrusted peer's forwarding headers are replaced")
    func untrustedForwarding() throws {
        let head = try build("GET /x HTTP/1.1\r\nHost: api.example\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nX-Request-Id: mine\r\n\r\n")
        #expect(lines(head).contains("X-Forwarded-For: 10.1.2.3"))
        #expect(lines(head).contains("X-Forwarded-Proto: http"))
        #expect(lines(head).contains("X-Forwarded-Host: api.example"))
        #expect(lines(head).contains("X-Request-Id: rid-1"))
        #expect(!head.contains("1.1.1.1") && !head.contains("evil") && !head.contains("mine"))
    }

    @Test("a trusted proxy's chain is kept and the peer appended")
    func trustedForwarding() throws {
        let head = try build("GET /x HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2\r\nX-Forwarded-For: 3.3.3.3\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: public.example\r\n\r\n", trusted: true)
        #expect(lines(head).contains("X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.1.2.3"))
        #expect(lines(head).contains("X-Forwarded-Proto: https"))
        #expect(lines(head).contains("X-Forwarded-Host: public.example"))
    }

    @Test("the normalized path and the original query are sent")
    func pathAndQuery() throws {
        let head = try build("GET /api/./x//y?a=%2F&b HTTP/1.1\r\nHost: h\r\n\r\n", path: "/api/x/y")
        #expect(lines(head)[0] == "GET /api/x/y?a=%2F&b HTTP/1.1")
    }

    @Test("framing is re-derived: chunked stays chunked, length is re-written, Expect is consumed")
    func framing() throws {
        let chunked = try build("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
        #expect(lines(chunked).contains("Transfer-Encoding: chunked"))
        #expect(!chunked.contains("Expect"))
        let sized = try build("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\n\r\n")
        #expect(lines(sized).contains("Content-Length: 42"))
    }

    @Test("HTTP/1.0 without Host gets the upstream's authority")
    func http10Host() throws {
        let head = try build("GET /x HTTP/1.0\r\n\r\n")
        #expect(lines(head)[1] == "Host: 127.0.0.1:9000")
    }

    @Test("a WebSocket upgrade carries Connection and Upgrade upstream")
    func websocket() throws {
        let head = try build("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n", websocket: true)
        #expect(lines(head).contains("Connection: upgrade"))
        #expect(lines(head).contains("Upgrade: websocket"))
        #expect(lines(head).contains("Sec-WebSocket-Key: k"))
    }

    @Test(
        "only websocket is offered upstream, whatever else the client listed",
        .bug(id: "review-3", "Upgrade: h2c, websocket was forwarded as is"))
    func websocketOnly() throws {
        let head = try build("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: h2c, websocket\r\n\r\n", websocket: true)
        #expect(lines(head).filter { $0.lowercased().hasPrefix("upgrade:") } == ["Upgrade: websocket"])
        #expect(!head.contains("h2c"))
    }

    static let proxyHints = [
        "Forwarded: for=192.0.2.60;proto=https", "X-Real-IP: 192.0.2.1", "X-Client-IP: 192.0.2.2", "X-Forwarded-Port: 443",
        "X-Forwarded-Prefix: /admin", "X-Original-URL: /admin/x", "X-Rewrite-URL: /admin/y", "x_real_ip: 192.0.2.3",
    ]

    @Test(
        "an untrusted peer's proxy headers are removed",
        .bug(id: "review-8", "Forwarded, X-Real-IP, X-Original-URL... reached the upstream from any client"))
    func untrustedProxyHints() throws {
        let head = try build("GET /x HTTP/1.1\r\nHost: h\r\n" + Self.proxyHints.joined(separator: "\r\n") + "\r\n\r\n")
        for line in Self.proxyHints { #expect(!lines(head).contains(line), "\(line) leaked") }
        #expect(!head.contains("192.0.2") && !head.lowercased().contains("forwarded:"))
    }

    @Test("a trusted proxy's proxy headers pass (not their _ spellings) and its Forwarded gets this hop appended")
    func trustedProxyHints() throws {
        let head = try build("GET /x HTTP/1.1\r\nHost: h\r\n" + Self.proxyHints.joined(separator: "\r\n") + "\r\n\r\n", trusted: true)
        #expect(lines(head).contains("Forwarded: for=192.0.2.60;proto=https, for=10.1.2.3"))
        for line in Self.proxyHints.dropFirst() where !line.hasPrefix("x_") {
            #expect(lines(head).contains(line), "\(line) missing")
        }
        // A client's copy a proxy passed through: no proxy writes the `_` spelling.
        #expect(!lines(head).contains("x_real_ip: 192.0.2.3"))
        let v6 = try build("GET /x HTTP/1.1\r\nHost: h\r\nForwarded: for=a\r\nForwarded: for=b\r\n\r\n", peer: "::1", trusted: true)
        #expect(lines(v6).contains("Forwarded: for=a, for=b, for=\"[::1]\""))
        let none = try build("GET /x HTTP/1.1\r\nHost: h\r\n\r\n", trusted: true)
        #expect(!none.contains("Forwarded:"))
    }

    @Test("identity values are written byte for byte")
    func identityBytes() {
        var out: [UInt8] = []
        let identity = Identity(userID: "adm\u{200b}in", name: "José Ñúñez", permissions: ["b", "a"], roles: ["r"], method: .jwt)
        IdentityHeaders.append(identity, permissions: ["a", "b"], to: &out)
        let text = String(decoding: out, as: UTF8.self)
        #expect(lines(text).contains("X-Auth-User-Id: adm\u{200b}in"))
        #expect(lines(text).contains("X-Auth-Name: José Ñúñez"))
        #expect(lines(text).contains("X-Auth-Permissions: a,b"))
    }
}

@Suite("Trailers and errors")
struct TrailerAndErrorTests {
    @Test("identity, hop-by-hop and framing trailers are never forwarded", arguments: [
        "X-Auth-User-Id", "x_auth_roles", "Content-Length", "Transfer-Encoding", "Host", "Authorization", "Connection", "X-Forwarded-For",
        "Forwarded", "X-Real-IP", "x_original_url",
    ])
    func forbiddenTrailers(name: String) {
        #expect(!TrailerPolicy.mayForward(Array(name.utf8)))
    }

    @Test func ordinaryTrailerForwarded() {
        #expect(TrailerPolicy.mayForward(Array("X-Checksum".utf8)))
    }

    @Test("the API-key header is a credential in a trailer too")
    func keyHeaderTrailer() {
        #expect(!TrailerPolicy.mayForward(Array("X-API-Key".utf8), credentialHeader: Array("x-api-key".utf8)))
        #expect(TrailerPolicy.mayForward(Array("X-API-Keys".utf8), credentialHeader: Array("x-api-key".utf8)))
    }

    @Test("each gateway error has its SPEC §12 status and code", arguments: [
        (GatewayError.invalidRequest, 400, "invalid_request"), (.accessDenied, 403, "access_denied"),
        (.routeNotFound, 404, "route_not_found"), (.requestTimeout, 408, "request_timeout"),
        (.payloadTooLarge, 413, "payload_too_large"), (.headersTooLarge, 431, "headers_too_large"),
        (.upstreamUnavailable, 502, "upstream_unavailable"), (.upstreamTimeout, 504, "upstream_timeout"),
    ])
    func errorMapping(error: GatewayError, status: Int, code: String) {
        #expect(error.status == status)
        #expect("\(error.code)" == code)
    }

    @Test("parse errors map to 431 for size and 400 otherwise")
    func parseErrorMapping() {
        #expect(GatewayError(HTTPParseError.headTooLarge) == .headersTooLarge)
        #expect(GatewayError(HTTPParseError.tooManyHeaders) == .headersTooLarge)
        #expect(GatewayError(HTTPParseError.badRequest(.obsFold)) == .invalidRequest)
    }

    @Test("the error body is the SPEC §12 JSON and carries no request bytes")
    func errorBody() {
        let out = ByteBuffer()
        ResponseWriter.appendError(.methodNotAllowed(allow: [MethodSet(.get), MethodSet(.head)]), requestID: Array("r1".utf8), close: true, date: [], to: out)
        let text = String(decoding: Array(out.readableBytes), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
        #expect(text.contains("\r\nAllow: GET, HEAD\r\n"))
        #expect(text.contains("\r\nConnection: close\r\n"))
        #expect(text.hasSuffix("{\"error\":\"method_not_allowed\",\"error_description\":\"The method is not allowed on this route.\",\"request_id\":\"r1\"}"))
    }
}
