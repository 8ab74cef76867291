import GatewayCrypto
import GatewayTLS
import Synchronization
import Testing

@testable import GatewayCore

/// A monotonic clock the test moves by hand.
final class ManualClock: Sendable {
    private let value = Mutex<Int64>(0)
    var now: Int64 { value.withLock { $0 } }
    func advance(_ milliseconds: Int64) { value.withLock { $0 += milliseconds } }
    var function: @Sendable () -> Int64 { { [self] in now } }
}

/// A transport serving whatever the test put in `response`, counting fetches.
final class FakeJWKSTransport: JWKSTransport, Sendable {
    private let state = Mutex<(response: Result<[UInt8], JWKSFetchError>, fetches: Int)>((.failure(JWKSFetchError("down")), 0))
    var fetches: Int { state.withLock { $0.fetches } }
    func serve(_ response: Result<[UInt8], JWKSFetchError>) { state.withLock { $0.response = response } }
    func serve(_ document: String) { serve(.success(Array(document.utf8))) }
    func fetch(_ url: JWKSURL, tls: ClientTLS?, limits: JWKSFetchLimits) -> Result<[UInt8], JWKSFetchError> {
        state.withLock { state in
            state.fetches += 1
            return state.response
        }
    }
}

@Suite("JWKS key source")
struct JWKSKeySourceTests {
    typealias F = JWTFixture
    // Test-only Ed25519 keys (generated for these tests; they protect nothing).
    static let keyA = try! SigningKey(privateKeyPEM: Array("""
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIFl8HmK5EdYhf90DmgMXPBPA88eSbStZ7UrpIFuhd870
        -----END PRIVATE KEY-----
        """.utf8), algorithm: .edDSA)
    static let keyB = try! SigningKey(privateKeyPEM: Array("""
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIDnliezPCACiGiCt5fDdpSMV6pkKyBkZ6i1rlHHRD9he
        -----END PRIVATE KEY-----
        """.utf8), algorithm: .edDSA)

    /// `{"keys":[...]}` with each key's public JWK under its kid.
    static func document(_ keys: [(kid: String, key: SigningKey)]) -> String {
        let entries = keys.map { kid, key in
            let members = (key.publicJWK() ?? []).map { "\"\($0.0)\":\"\($0.1)\"" }
            return "{" + (members + ["\"kid\":\"\(kid)\""]).joined(separator: ",") + "}"
        }
        return "{\"keys\":[" + entries.joined(separator: ",") + "]}"
    }

    /// An EdDSA token for `kid`, signed by `key`, with the fixture's valid claims.
    static func token(kid: String, key: SigningKey, iss: String = F.issuer) -> [UInt8] {
        let input = F.b64("{\"alg\":\"EdDSA\",\"kid\":\"\(kid)\"}") + "." + F.b64(F.payload(iss: iss))
        let signature = Array(input.utf8).withUnsafeBytes { try! key.sign($0) }
        return Array((input + "." + Base64URL.encode(signature)).utf8)
    }

    struct Harness {
        let clock = ManualClock()
        let transport = FakeJWKSTransport()
        let source: JWKSKeySource
        let verifier: JWTVerifier
        let refresher: JWKSRefresher

        init(staticKeys: [JWTKeyEntry] = []) {
            source = JWKSKeySource(
                url: try! JWKSURL.parse("http://127.0.0.1:9/jwks"), issuer: F.issuer,
                settings: JWKSRefreshPolicy.Settings(refreshInterval: 600_000), clock: clock.function)
            verifier = JWTVerifier(
                issuers: [JWTIssuerConfig(issuer: F.issuer, audiences: ["agent-api"]),
                          JWTIssuerConfig(issuer: F.otherIssuer, audiences: ["agent-api"])],
                keys: staticKeys, keySources: [source])
            refresher = JWKSRefresher(transports: [.http: transport])
        }

        /// One pass of the fetcher. - Returns: the outcomes.
        @discardableResult
        func refresh() -> [JWKSRefreshOutcome] {
            var outcomes: [JWKSRefreshOutcome] = []
            refresher.refreshDue([source], clock: clock.function) { _, outcome in outcomes.append(outcome) }
            return outcomes
        }

        func verify(_ token: [UInt8]) -> Result<VerifiedToken, JWTFailure> { verifier.verify(token, now: F.now) }
    }

    @Test func keysFromTheURLVerifyTokens() throws {
        let h = Harness()
        #expect(F.failure(h.verify(Self.token(kid: "a", key: Self.keyA))) == .keyRefreshPending)
        h.transport.serve(Self.document([("a", Self.keyA)]))
        #expect(h.refresh() == [.updated(keyCount: 1, generation: 1, skipped: [])])
        let verified = try h.verify(Self.token(kid: "a", key: Self.keyA)).get()
        #expect(verified.identity.keyID == "a" && verified.issuer == F.issuer)
    }

    @Test func fetchedKeysKeepTheIssuerAndAlgorithmRules() {
        let h = Harness()
        h.transport.serve(Self.document([("a", Self.keyA)]))
        h.refresh()
        // Signed by the URL's key but claiming another issuer.
        #expect(F.failure(h.verify(Self.token(kid: "a", key: Self.keyA, iss: F.otherIssuer))) == .badIssuer)
        // The right kid, another algorithm: the key is bound to EdDSA.
        let hs = F.token(header: #"{"alg":"HS256","kid":"a"}"#, payload: F.payload())
        #expect(F.failure(h.verify(hs)) == .algUnsupported)
        // The right kid, a signature by another key.
        #expect(F.failure(h.verify(Self.token(kid: "a", key: Self.keyB))) == .badSignature)
        // Kid-less tokens find fetched keys by algorithm.
        let input = F.b64(#"{"alg":"EdDSA"}"#) + "." + F.b64(F.payload())
        let signature = Array(input.utf8).withUnsafeBytes { try! Self.keyA.sign($0) }
        #expect(F.identity(h.verify(Array((input + "." + Base64URL.encode(signature)).utf8))) != nil)
    }

    @Test func staticAndFetchedKeysWorkSideBySide() {
        let h = Harness(staticKeys: [JWTKeyEntry(kid: "hs-main", verifier: DigestVerifier(algorithmName: "HS256"), issuer: F.issuer)])
        h.transport.serve(Self.document([("a", Self.keyA)]))
        h.refresh()
        #expect(F.identity(h.verify(F.token(header: #"{"alg":"HS256","kid":"hs-main"}"#, payload: F.payload()))) != nil)
        #expect(F.identity(h.verify(Self.token(kid: "a", key: Self.keyA))) != nil)
    }

    @Test func rotationIsPickedUpThroughAnUnknownKid() {
        let h = Harness()
        h.transport.serve(Self.document([("a", Self.keyA)]))
        h.refresh()
        h.clock.advance(1_000)
        h.transport.serve(Self.document([("a", Self.keyA), ("b", Self.keyB)]))
        #expect(F.failure(h.verify(Self.token(kid: "b", key: Self.keyB))) == .keyRefreshPending)
        #expect(h.refresh() == [.updated(keyCount: 2, generation: 2, skipped: [])])
        #expect(F.identity(h.verify(Self.token(kid: "b", key: Self.keyB)))?.keyID == "b")
        #expect(h.transport.fetches == 2)
    }

    @Test("an unknown kid while the key source is down is keysUnavailable (503), until a fetch succeeds")
    func unreachableSource() {
        let h = Harness()
        h.transport.serve(Self.document([("a", Self.keyA)]))
        h.refresh()
        #expect(h.source.unreachableRetryMilliseconds() == nil)
        h.clock.advance(1_000)
        h.transport.serve(.failure(JWKSFetchError("connection refused")))
        #expect(F.failure(h.verify(Self.token(kid: "b", key: Self.keyB))) == .keyRefreshPending)
        h.refresh()
        #expect(h.source.unreachableRetryMilliseconds() == 5_000)
        #expect(h.verifier.keySourceRetryAfter() == 5)
        #expect(F.failure(h.verify(Self.token(kid: "b", key: Self.keyB))) == .keysUnavailable)
        // Known keys still verify meanwhile.
        #expect(F.identity(h.verify(Self.token(kid: "a", key: Self.keyA))) != nil)
        h.clock.advance(5_000)
        h.transport.serve(Self.document([("a", Self.keyA)]))
        h.refresh()
        #expect(h.verifier.keySourceRetryAfter() == nil)
        #expect(F.failure(h.verify(Self.token(kid: "b", key: Self.keyB))) == .unknownKid)
    }

    @Test("a key server that answers with a document the gateway cannot use is reachable: 401, not 503")
    func reachableButUnusable() {
        let h = Harness()
        h.transport.serve(#"{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0","kid":"s"}]}"#)
        h.refresh()
        #expect(h.source.policyState.consecutiveFailures == 1)
        #expect(h.source.unreachableRetryMilliseconds() == nil)
        #expect(h.verifier.keySourceRetryAfter() == nil)
        #expect(F.failure(h.verify(Self.token(kid: "b", key: Self.keyB))) != .keysUnavailable)
    }

    @Test func unknownKidFetchesAreLimitedTo1Per30Seconds() {
        let h = Harness()
        h.transport.serve(Self.document([("a", Self.keyA)]))
        h.refresh()
        for i in 0..<200 {
            let failure = F.failure(h.verify(Self.token(kid: "random-\(i)", key: Self.keyA)))
            #expect(failure == .keyRefreshPending || failure == .unknownKid)
            h.refresh()
            h.clock.advance(10)
        }
        #expect(h.transport.fetches == 2)   // the first fetch and one for the flood
        #expect(h.source.policyState.negativeCount <= JWKSRefreshPolicy.Settings().negativeCacheCapacity)
        // Once 30 s have passed, an unknown kid may ask again.
        h.clock.advance(30_000)
        #expect(F.failure(h.verify(Self.token(kid: "later", key: Self.keyA))) == .keyRefreshPending)
        h.refresh()
        #expect(h.transport.fetches == 3)
    }

    @Test func theIntervalRefreshFollowsTheClock() {
        let h = Harness()
        h.transport.serve(Self.document([("a", Self.keyA)]))
        h.refresh()
        h.clock.advance(599_999)
        #expect(h.refresh().isEmpty)
        h.clock.advance(1)
        h.transport.serve(Self.document([("b", Self.keyB)]))
        #expect(h.refresh() == [.updated(keyCount: 1, generation: 2, skipped: [])])
        #expect(F.identity(h.verify(Self.token(kid: "b", key: Self.keyB))) != nil)
        #expect(h.transport.fetches == 2)
    }

    @Test(arguments: [
        Result<[UInt8], JWKSFetchError>.failure(JWKSFetchError("connect 127.0.0.1:9: Connection refused")),
        .success(Array("not json".utf8)),
        .success(Array(#"{"nokeys":[]}"#.utf8)),
        .success(Array(#"{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0","kid":"s"}]}"#.utf8)),
    ])
    func theLastGoodSetSurvivesFailuresAndInvalidDocuments(response: Result<[UInt8], JWKSFetchError>) throws {
        let h = Harness()
        h.transport.serve(Self.document([("a", Self.keyA)]))
        h.refresh()
        h.clock.advance(600_000)
        h.transport.serve(response)
        let outcomes = h.refresh()
        guard case .failed(let reason, let retry, let kept)? = outcomes.first else {
            Issue.record("expected a failure, got \(outcomes)")
            return
        }
        #expect(retry == 5_000 && kept == 1 && !reason.isEmpty)
        #expect(h.source.currentKeys.generation == 1)
        #expect(F.identity(h.verify(Self.token(kid: "a", key: Self.keyA))) != nil)
        // Retried after the backoff, not before.
        h.clock.advance(4_999)
        #expect(h.refresh().isEmpty)
        h.clock.advance(1)
        h.transport.serve(Self.document([("a", Self.keyA)]))
        #expect(h.refresh() == [.updated(keyCount: 1, generation: 2, skipped: [])])
    }

    @Test func aSchemeWithoutTransportFailsItsFetches() {
        let clock = ManualClock()
        let source = JWKSKeySource(
            url: try! JWKSURL.parse("https://idp.example.com/jwks"), issuer: F.issuer,
            settings: JWKSRefreshPolicy.Settings(), clock: clock.function)
        var outcomes: [JWKSRefreshOutcome] = []
        JWKSRefresher(transports: [.http: FakeJWKSTransport()]).refreshDue([source], clock: clock.function) { outcomes.append($1) }
        #expect(outcomes == [.failed(reason: "no transport for https URLs", retryInMilliseconds: 5_000, keptKeys: 0)])
    }

    @Test func aBudgetSkipsWhatDoesNotFit() {
        let h = Harness()
        h.transport.serve(Self.document([("a", Self.keyA)]))
        var reported = 0
        h.refresher.refreshDue([h.source], budget: 0, clock: h.clock.function) { _, _ in reported += 1 }
        #expect(reported == 0 && h.transport.fetches == 0 && h.source.isDue)
    }
}
