import GatewayCrypto
import GatewaySupport
import GatewayTLS
import Testing

@testable import GatewayCore

/// Token introspection (RFC 7662) without a network: reading answers, the cache's lifetimes,
/// the queue's de-duplication, and the pipeline's opaque/JWT split.
@Suite("Introspection")
struct IntrospectionTests {
    static let config = IntrospectionConfig(
        url: try! JWKSURL.parse("https://as.test/introspect"), clientID: "gw id", clientSecret: Secret(Array("p@ss".utf8)),
        location: SourceLocation(file: "t.conf", line: 1, column: 1))

    static func body(_ json: String) -> Result<[UInt8], JWKSFetchError> { .success(Array(json.utf8)) }

    func lookup(_ introspector: Introspector, _ token: String, client: [UInt8] = [192, 0, 2, 1], now: Int64) -> Introspector.Lookup {
        let bytes = Array(token.utf8)
        return bytes.withUnsafeBytes { introspector.lookup($0, hash: TokenHash(token: bytes), client: client, now: now) }
    }

    @Test func anActiveAnswerIsCachedUntilCacheOrExp() throws {
        let introspector = Introspector(config: Self.config)
        #expect(lookup(introspector, "t1", now: 1000) == .pending)
        #expect(lookup(introspector, "t1", now: 1000) == .pending, "queued once")
        let job = try #require(introspector.takeJob())
        #expect(job.token == Array("t1".utf8))
        #expect(introspector.takeJob() == nil)
        let answer = introspector.finish(job.hash, response: Self.body(#"{"active":true,"sub":"u1","scope":"a:b c:d","exp":1010}"#), now: 1000)
        guard case .active(let identity) = answer else { Issue.record("\(answer)"); return }
        #expect(identity.userID == "u1" && identity.permissions == ["a:b", "c:d"] && identity.method == .introspection)
        #expect(lookup(introspector, "t1", now: 1009) == .answered(answer))
        #expect(lookup(introspector, "t1", now: 1010) == .pending, "never past exp (cache 30s)")
    }

    @Test(arguments: [
        (#"{"active":false}"#, Introspector.Answer.inactive),
        (#"{"active":true,"sub":"u","exp":999}"#, .inactive),
        (#"{"active":true,"sub":"u","nbf":1100}"#, .inactive),
        (#"{"active":"true","sub":"u"}"#, .unavailable),
        (#"{"sub":"u"}"#, .unavailable),
        (#"[true]"#, .unavailable),
        (#"{"active":true}"#, .unavailable),
        (#"{"active":true,"sub":7}"#, .unavailable),
        (#"{"active":true,"sub":"line\nbreak"}"#, .inactive),
    ])
    func answersThatAreNotAnIdentity(_ json: String, _ expected: Introspector.Answer) {
        let introspector = Introspector(config: Self.config)
        #expect(introspector.finish(TokenHash(token: [1]), response: Self.body(json), now: 1000) == expected)
    }

    @Test func lifetimesOfNegativeAndFailedAnswers() throws {
        var config = Self.config
        config.negativeTTL = .seconds(5)
        let introspector = Introspector(config: config)
        _ = lookup(introspector, "bad", now: 1000)
        _ = lookup(introspector, "down", now: 1000)
        let bad = try #require(introspector.takeJob()), down = try #require(introspector.takeJob())
        introspector.finish(bad.hash, response: Self.body(#"{"active":false}"#), now: 1000)
        introspector.finish(down.hash, response: .failure(JWKSFetchError("status 500")), now: 1000)
        #expect(lookup(introspector, "bad", now: 1004) == .answered(.inactive))
        #expect(lookup(introspector, "bad", now: 1005) == .pending)
        #expect(lookup(introspector, "down", now: 1001) == .answered(.unavailable))
        #expect(lookup(introspector, "down", now: 1002) == .pending)
    }

    @Test func audienceIsCheckedWhenConfigured() {
        var config = Self.config
        config.audiences = ["api"]
        let introspector = Introspector(config: config)
        let other = introspector.finish(TokenHash(token: [1]), response: Self.body(#"{"active":true,"sub":"u","aud":"else"}"#), now: 1)
        let ours = introspector.finish(TokenHash(token: [2]), response: Self.body(#"{"active":true,"sub":"u","aud":["x","api"]}"#), now: 1)
        #expect(other == .inactive)
        if case .active = ours {} else { Issue.record("\(ours)") }
    }

    @Test func theQueueIsBounded() {
        let introspector = Introspector(config: Self.config)
        for index in 0..<Introspector.maxPending {
            #expect(lookup(introspector, "t\(index)", client: [10, 0, UInt8(index >> 8), UInt8(index & 0xFF)], now: 1) == .pending)
        }
        #expect(lookup(introspector, "one-more", client: [10, 9, 9, 9], now: 1) == .overloaded)
    }

    /// One address sending new random tokens would otherwise fill the queue faster than the
    /// failure gate (which counts answers) locks it out, and every other user's token would wait.
    @Test("one client address has at most a few tokens waiting", .bug(id: "audit-introspection-flood"))
    func pendingTokensPerClientAreBounded() throws {
        let introspector = Introspector(config: Self.config)
        let attacker: [UInt8] = [203, 0, 113, 7]
        for index in 0..<Introspector.maxPendingPerClient {
            #expect(lookup(introspector, "a\(index)", client: attacker, now: 1) == .pending)
        }
        #expect(lookup(introspector, "a-more", client: attacker, now: 1) == .overloaded)
        #expect(lookup(introspector, "a0", client: attacker, now: 1) == .pending, "a token already waiting still waits")
        #expect(lookup(introspector, "user", client: [192, 0, 2, 9], now: 1) == .pending, "other clients are served")
        // An answer frees the client's slot.
        let first = try #require(introspector.takeJob())
        introspector.finish(first.hash, response: Self.body(#"{"active":false}"#), now: 1)
        #expect(lookup(introspector, "a-more", client: attacker, now: 1) == .pending)
        #expect(lookup(introspector, "a-again", client: attacker, now: 1) == .overloaded)
    }

    @Test func requestBodyAndBasicCredentialsAreFormEncoded() {
        #expect(String(decoding: Introspector.requestBody(for: Array("a b+c/~".utf8)), as: UTF8.self)
            == "token=a%20b%2Bc%2F~&token_type_hint=access_token")
        let introspector = Introspector(config: Self.config)
        // base64("gw%20id:p%40ss")
        #expect(introspector.authorizationHeader == "Authorization: Basic Z3clMjBpZDpwJTQwc3M=\r\n")
    }

    @Test(arguments: [("a.b.c", true), ("a..c", false), ("a.b", false), (".b.c", false), ("a.b.", false), ("opaque", false), ("a.b.c.d", false)])
    func jwtShape(_ token: String, _ expected: Bool) {
        #expect(Array(token.utf8).withUnsafeBytes { AccessPipeline.looksLikeJWT($0) } == expected)
    }
}

@Suite("mTLS identity")
struct MTLSIdentityTests {
    @Test func theFirstPresentNameFillsEachField() throws {
        var config = MTLSConfig()
        config.userID = [.sanURI, .subjectCN]
        config.orgID = [.subjectO]
        config.roles = ["agent"]
        let spiffe = PeerCertificate(commonName: "svc", organization: "blue", uris: ["spiffe://t/svc"], fingerprint: String(repeating: "ab", count: 32))
        let plain = PeerCertificate(commonName: "svc", fingerprint: String(repeating: "cd", count: 32))
        let a = try #require(config.identity(spiffe)), b = try #require(config.identity(plain))
        #expect(a.userID == "spiffe://t/svc" && a.orgID == "blue" && a.roles == ["agent"] && a.method == .mtls)
        #expect(a.keyID == "sha256:" + String(repeating: "ab", count: 16))
        #expect(b.userID == "svc" && b.orgID == nil)
        #expect(config.identity(PeerCertificate(fingerprint: "00")) == nil, "no name for user_id")
    }

    @Test func anUnreadableNameIsRefusedNotSkipped() {
        var config = MTLSConfig()
        config.userID = [.sanURI, .subjectCN]
        config.orgID = [.subjectO]
        var certificate = PeerCertificate(commonName: "admin", organization: "blue", fingerprint: "00")
        certificate.uris = [.unreadable, .text("spiffe://t/admin")]
        #expect(config.identity(certificate) == nil, "the CN does not stand in for a malformed URI SAN")
        certificate.uris = [.text("spiffe://t/svc")]
        #expect(config.identity(certificate)?.userID == "spiffe://t/svc")
        certificate.organization = .unreadable
        #expect(config.identity(certificate) == nil, "an optional field's unreadable name refuses too")
    }
}
