import GatewayCrypto
import Testing

@testable import GatewayCore

@Suite("JWT verifier")
struct JWTVerifierTests {
    typealias F = JWTFixture
    static let hsHeader = #"{"alg":"HS256","kid":"hs-main","typ":"JWT"}"#

    private func reject(_ header: String = hsHeader, _ payload: String = F.payload(), now: Int64 = F.now,
                        verifier: JWTVerifier = F.verifier()) -> JWTFailure? {
        F.failure(F.verify(F.token(header: header, payload: payload), with: verifier, now: now))
    }

    // MARK: Accepted

    @Test func acceptsValidToken() throws {
        let result = F.verify(F.token(header: Self.hsHeader, payload: F.payload(extra: #""jti":"t-1","iat":1699999990,"nbf":1699999990"#)))
        let token = try result.get()
        #expect(token.issuer == F.issuer)
        #expect(token.validUntil == F.now + 300 + 30 - 1)
        #expect(token.identity == Identity(
            userID: "user-1", method: .jwt, keyID: "hs-main", tokenID: "t-1", expiresAt: F.now + 300, subject: "user-1",
            issuer: F.issuer))
    }

    @Test func acceptsKidlessTokenWithMatchingAlgorithm() {
        let identity = F.identity(F.verify(F.token(header: #"{"alg":"ES256"}"#, payload: F.payload())))
        #expect(identity?.keyID == "es-1")
    }

    @Test func kidlessTriesSeveralKeysOfTheAlgorithm() {
        // A rejecting HS256 key first: the next HS256 key still gets its turn.
        let verifier = JWTVerifier(
            issuers: [JWTIssuerConfig(issuer: F.issuer, audiences: ["agent-api"])],
            keys: [
                JWTKeyEntry(kid: "dead", verifier: RejectingVerifier(algorithmName: "HS256"), issuer: F.issuer),
                JWTKeyEntry(kid: "live", verifier: DigestVerifier(algorithmName: "HS256"), issuer: F.issuer),
            ])
        let identity = F.identity(F.verify(F.token(header: #"{"alg":"HS256"}"#, payload: F.payload()), with: verifier))
        #expect(identity?.keyID == "live")
    }

    @Test func kidlessCandidatesAreBounded() {
        let keys = (0..<8).map { JWTKeyEntry(kid: "r\($0)", verifier: RejectingVerifier(algorithmName: "HS256"), issuer: F.issuer) }
            + [JWTKeyEntry(kid: "ninth", verifier: DigestVerifier(algorithmName: "HS256"), issuer: F.issuer)]
        let verifier = JWTVerifier(issuers: [JWTIssuerConfig(issuer: F.issuer, audiences: ["agent-api"])], keys: keys)
        #expect(reject(#"{"alg":"HS256"}"#, verifier: verifier) == .badSignature)
        #expect(reject(#"{"alg":"HS256","kid":"ninth"}"#, verifier: verifier) == nil)
    }

    @Test func ignoresKeyURLHeaderFields() {
        let header = #"{"alg":"HS256","kid":"hs-main","jku":"https://evil/jwks","x5u":"https://evil/c","jwk":{"kty":"oct","k":"AA"},"x5c":["AA"]}"#
        #expect(reject(header) == nil)
        let kidless = #"{"alg":"RS256","jwk":{"kty":"RSA"},"jku":"https://evil"}"#
        #expect(reject(kidless, F.payload(iss: F.otherIssuer)) == nil)
    }

    @Test func expiredWithinLeewayIsAccepted() {
        #expect(reject(Self.hsHeader, F.payload(exp: String(F.now - 29))) == nil)
        #expect(reject(Self.hsHeader, F.payload(exp: String(F.now - 30))) == .expired)
    }

    @Test func decimalDatesAreAccepted() {
        #expect(reject(Self.hsHeader, F.payload(exp: "1700000100.75", extra: #""nbf":1699999999.5,"iat":1.6999e9"#)) == nil)
    }

    @Test func expOptionalWhenConfigured() {
        #expect(reject(Self.hsHeader, F.payload(exp: nil), verifier: F.verifier(requireExp: false)) == nil)
        #expect(F.verify(F.token(header: Self.hsHeader, payload: F.payload(exp: nil)), with: F.verifier(requireExp: false))
            .map(\.validUntil) == .success(nil))
    }

    // MARK: Header rejections

    @Test("alg none in any casing", .bug(id: "RFC8725-3.1", "alg none"),
          arguments: ["none", "None", "NONE", "nOnE", "noNe"])
    func rejectsAlgNone(alg: String) {
        let header = #"{"alg":"\#(alg)","kid":"hs-main"}"#
        // Unsigned (empty third segment) and with a "valid" signature: both rejected as alg none.
        let unsigned = Array((F.b64(header) + "." + F.b64(F.payload()) + ".").utf8)
        #expect(F.failure(F.verify(unsigned)) == .malformed)
        #expect(reject(header) == .algNone)
        #expect(reject(#"{"alg":"\#(alg)"}"#) == .algNone)
    }

    @Test(arguments: ["HS1", "hs256", "RS1", "ES256K", "A128KW", "dir", "", "Ed25519"])
    func rejectsUnknownAlgorithm(alg: String) {
        #expect(reject(#"{"alg":"\#(alg)","kid":"hs-main"}"#) == .algUnsupported)
    }

    @Test func rejectsMissingOrNonStringAlg() {
        #expect(reject(#"{"kid":"hs-main"}"#) == .malformed)
        #expect(reject(#"{"alg":256,"kid":"hs-main"}"#) == .malformed)
        #expect(reject(#"{"alg":["HS256"],"kid":"hs-main"}"#) == .malformed)
    }

    @Test("HS256 token against an ES256-bound key", .bug(id: "RFC8725-2.1", "algorithm confusion"))
    func rejectsAlgorithmKeyMismatch() {
        #expect(reject(#"{"alg":"HS256","kid":"es-1"}"#) == .algUnsupported)
        #expect(reject(#"{"alg":"ES256","kid":"hs-main"}"#) == .algUnsupported)
        // Without kid: the only RS256 key belongs to another issuer, no PS256 key at all.
        #expect(reject(#"{"alg":"PS256"}"#) == .unknownKid)
    }

    @Test func rejectsCrit() {
        #expect(reject(#"{"alg":"HS256","kid":"hs-main","crit":["exp"],"exp":1}"#) == .critUnsupported)
        #expect(reject(#"{"alg":"HS256","kid":"hs-main","crit":["b64"],"b64":false}"#) == .critUnsupported)
        #expect(reject(#"{"alg":"HS256","kid":"hs-main","crit":[]}"#) == .malformed)
        #expect(reject(#"{"alg":"HS256","kid":"hs-main","crit":"b64"}"#) == .malformed)
        // An understood extension must be present.
        let understanding = JWTVerifier(
            issuers: [JWTIssuerConfig(issuer: F.issuer, audiences: ["agent-api"])],
            keys: [JWTKeyEntry(kid: "k", verifier: DigestVerifier(algorithmName: "HS256"), issuer: F.issuer)],
            understoodCriticalHeaders: ["x-ext"])
        #expect(reject(#"{"alg":"HS256","kid":"k","crit":["x-ext"],"x-ext":1}"#, verifier: understanding) == nil)
        #expect(reject(#"{"alg":"HS256","kid":"k","crit":["x-ext"]}"#, verifier: understanding) == .malformed)
        #expect(reject(#"{"alg":"HS256","kid":"k","crit":["x-ext","y"],"x-ext":1,"y":1}"#, verifier: understanding) == .critUnsupported)
    }

    @Test func rejectsUnknownKid() {
        #expect(reject(#"{"alg":"HS256","kid":"nope"}"#) == .unknownKid)
        #expect(reject(#"{"alg":"HS256","kid":""}"#) == .unknownKid)
        #expect(reject(#"{"alg":"HS256","kid":7}"#) == .malformed)
    }

    @Test func kidlessWithoutKeyForAlgorithm() {
        #expect(reject(#"{"alg":"ES384"}"#) == .unknownKid)
    }

    @Test func rejectsBadSignature() {
        let good = F.token(header: Self.hsHeader, payload: F.payload())
        var flipped = good
        let middle = flipped.count - 10  // inside the signature, clear of the trailing-bits character
        flipped[middle] = flipped[middle] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(F.failure(F.verify(flipped)) == .badSignature)
        #expect(F.failure(F.verify(F.token(header: Self.hsHeader, payload: F.payload(), signature: [1, 2, 3]))) == .badSignature)
        // Payload swapped under a valid signature.
        let other = F.token(header: Self.hsHeader, payload: F.payload(extra: #""admin":true"#))
        let spliced = Array(good.split(separator: UInt8(ascii: "."))[0] + [UInt8(ascii: ".")]
            + other.split(separator: UInt8(ascii: "."))[1] + [UInt8(ascii: ".")] + good.split(separator: UInt8(ascii: "."))[2])
        #expect(F.failure(F.verify(spliced)) == .badSignature)
        let rejecting = JWTVerifier(
            issuers: [JWTIssuerConfig(issuer: F.issuer, audiences: ["agent-api"])],
            keys: [JWTKeyEntry(kid: "hs-main", verifier: RejectingVerifier(algorithmName: "HS256"), issuer: F.issuer)])
        #expect(reject(verifier: rejecting) == .badSignature)
    }

    @Test func signatureIsCheckedBeforePayload() {
        // A payload that is not even base64 yields bad_signature, not malformed: it was never decoded.
        let input = F.b64(Self.hsHeader) + ".!!!!"
        let token = Array((input + "." + Base64URL.encode([9, 9])).utf8)
        #expect(F.failure(F.verify(token)) == .badSignature)
        let signed = Array((input + "." + Base64URL.encode(Digest.sha256(Array(input.utf8)))).utf8)
        #expect(F.failure(F.verify(signed)) == .malformed)
    }

    // MARK: Shape rejections

    @Test("segment counts", arguments: [2, 4, 5])
    func rejectsSegmentCounts(count: Int) {
        let parts = [F.b64(Self.hsHeader), F.b64(F.payload()), "c2ln", "YQ", "Yg"]
        let token = Array(parts.prefix(count).joined(separator: ".").utf8)
        #expect(F.failure(F.verify(token)) == .malformed)
    }

    @Test func rejectsEmptySegments() {
        for text in ["", ".", "..", "a..b", ".a.b", "a.b.", "a.b"] {
            #expect(F.failure(F.verify(Array(text.utf8))) == .malformed)
        }
    }

    @Test func rejectsOversize() {
        let padding = #""pad":""# + String(repeating: "x", count: 6000) + "\""
        let token = F.token(header: Self.hsHeader, payload: F.payload(extra: padding))
        #expect(token.count > 8192)
        #expect(F.failure(F.verify(token)) == .tooLarge)
        let larger = F.verifier(maxTokenBytes: 16384)
        #expect(F.failure(F.verify(token, with: larger)) == nil)
        let small = F.token(header: Self.hsHeader, payload: F.payload())
        #expect(F.failure(F.verify(small, with: F.verifier(maxTokenBytes: small.count - 1))) == .tooLarge)
        #expect(F.failure(F.verify(small, with: F.verifier(maxTokenBytes: small.count))) == nil)
    }

    @Test("malformed base64 segments", arguments: ["pad", "plus", "slash", "space", "newline", "trailingBits"])
    func rejectsMalformedBase64(kind: String) {
        let header = F.b64(Self.hsHeader)
        let payload = F.b64(F.payload())
        var h = header, p = payload
        switch kind {
        case "pad": h += "="
        case "plus": h = "+" + h.dropFirst()
        case "slash": p = "/" + p.dropFirst()
        case "space": h = " " + h
        case "newline": h = h + "\n"
        default: h = "e31"  // "{}" is "e30"; "e31" carries non-zero trailing bits
        }
        let input = h + "." + p
        let token = Array((input + "." + Base64URL.encode(Digest.sha256(Array(input.utf8)))).utf8)
        #expect(F.failure(F.verify(token)) == .malformed)
    }

    @Test func rejectsPaddedSignature() {
        let input = F.b64(Self.hsHeader) + "." + F.b64(F.payload())
        let token = Array((input + "." + Base64URL.encode(Digest.sha256(Array(input.utf8))) + "=").utf8)
        #expect(F.failure(F.verify(token)) == .malformed)
    }

    @Test("malformed header JSON", arguments: [
        #"{"alg":"HS256","kid":"hs-main",}"#,
        #"{"alg":"HS256","kid":"hs-main","alg":"none"}"#,
        #"{"alg":"HS256","kid":"hs-main","x":"\ud800"}"#,
        #"{"alg":"HS256","kid":"hs-main"} x"#,
        #"["HS256"]"#,
        #""HS256""#,
    ])
    func rejectsMalformedHeaderJSON(header: String) {
        #expect(reject(header) == .malformed)
    }

    @Test func rejectsDeepHeader() {
        let deep = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(reject(#"{"alg":"HS256","kid":"hs-main","x":\#(deep)}"#) == .malformed)  // 33 levels
        let ok = String(repeating: "[", count: 31) + String(repeating: "]", count: 31)
        #expect(reject(#"{"alg":"HS256","kid":"hs-main","x":\#(ok)}"#) == nil)
    }

    @Test("malformed payload JSON", arguments: [
        #"{"iss":"https://auth.example.com","sub":"u","aud":"agent-api","exp":1700000300,}"#,
        #"{"iss":"https://auth.example.com","sub":"u","aud":"agent-api","exp":1700000300,"sub":"admin"}"#,
        #"{"iss":"https://auth.example.com","sub":"\udc00","aud":"agent-api","exp":1700000300}"#,
        "[1,2]", "\"claims\"", "42", "null", "",
    ])
    func rejectsMalformedPayload(payload: String) {
        #expect(reject(Self.hsHeader, payload) == .malformed)
    }

    // MARK: Claim rejections

    @Test func rejectsExpired() {
        #expect(reject(Self.hsHeader, F.payload(exp: String(F.now - 31))) == .expired)
        #expect(reject(Self.hsHeader, F.payload(exp: "0")) == .expired)
    }

    @Test func rejectsMissingExp() {
        #expect(reject(Self.hsHeader, F.payload(exp: nil)) == .missingExp)
    }

    @Test("hostile numeric dates", arguments: [
        "\"1700000300\"", "-1", "true", "null", "[1700000300]", "{}", "9007199254740993", "1e300",
        "18446744073709551616", "-0.5",
    ])
    func rejectsBadExp(exp: String) {
        #expect(reject(Self.hsHeader, F.payload(exp: exp)) == .badClaims)
    }

    @Test func rejectsHugeNumberAsMalformed() {
        #expect(reject(Self.hsHeader, F.payload(exp: "1e400")) == .malformed)
    }

    @Test func rejectsNotYetValid() {
        #expect(reject(Self.hsHeader, F.payload(extra: #""nbf":\#(F.now + 31)"#)) == .notYetValid)
        #expect(reject(Self.hsHeader, F.payload(extra: #""nbf":\#(F.now + 30)"#)) == nil)
        #expect(reject(Self.hsHeader, F.payload(extra: #""nbf":"soon""#)) == .badClaims)
    }

    @Test func rejectsIssuedInFuture() {
        #expect(reject(Self.hsHeader, F.payload(extra: #""iat":\#(F.now + 31)"#)) == .issuedInFuture)
        #expect(reject(Self.hsHeader, F.payload(extra: #""iat":\#(F.now + 30)"#)) == nil)
        #expect(reject(Self.hsHeader, F.payload(extra: #""iat":-5"#)) == .badClaims)
    }

    @Test func rejectsWrongIssuer() {
        #expect(reject(Self.hsHeader, F.payload(iss: "https://evil.example.com")) == .badIssuer)
        #expect(reject(Self.hsHeader, F.payload(iss: "https://auth.example.com/")) == .badIssuer)
        // A configured issuer, but not the one this key belongs to.
        #expect(reject(Self.hsHeader, F.payload(iss: F.otherIssuer)) == .badIssuer)
        #expect(reject(Self.hsHeader, #"{"sub":"u","aud":"agent-api","exp":1700000300}"#) == .badIssuer)
        #expect(reject(Self.hsHeader, #"{"iss":7,"sub":"u","aud":"agent-api","exp":1700000300}"#) == .badIssuer)
    }

    @Test func audienceStringArrayAndMissing() {
        #expect(reject(Self.hsHeader, F.payload(aud: "\"admin-api\"")) == nil)
        #expect(reject(Self.hsHeader, F.payload(aud: "\"other-api\"")) == .badAudience)
        #expect(reject(Self.hsHeader, F.payload(aud: #"["x","agent-api"]"#)) == nil)
        #expect(reject(Self.hsHeader, F.payload(aud: #"["x","y"]"#)) == .badAudience)
        #expect(reject(Self.hsHeader, F.payload(aud: "[]")) == .badAudience)
        #expect(reject(Self.hsHeader, F.payload(aud: #"["agent-api",1]"#)) == .badClaims)
        #expect(reject(Self.hsHeader, F.payload(aud: "1")) == .badClaims)
        #expect(reject(Self.hsHeader, #"{"iss":"\#(F.issuer)","sub":"u","exp":1700000300}"#) == .badAudience)
        #expect(reject(Self.hsHeader, F.payload(aud: "\"AGENT-API\"")) == .badAudience)
    }

    @Test func typWhenConfigured() {
        let verifier = F.verifier(requiredTyp: "at+jwt")
        for typ in ["at+jwt", "AT+JWT", "application/at+jwt", "Application/At+Jwt"] {
            #expect(reject(#"{"alg":"HS256","kid":"hs-main","typ":"\#(typ)"}"#, verifier: verifier) == nil)
        }
        for typ in ["JWT", "application/jwt", "at+jwt ", "application/", "x/at+jwt"] {
            #expect(reject(#"{"alg":"HS256","kid":"hs-main","typ":"\#(typ)"}"#, verifier: verifier) == .badTyp)
        }
        #expect(reject(#"{"alg":"HS256","kid":"hs-main"}"#, verifier: verifier) == .badTyp)
        #expect(reject(#"{"alg":"HS256","kid":"hs-main","typ":1}"#, verifier: verifier) == .badTyp)
        // Not configured: any typ passes.
        #expect(reject(#"{"alg":"HS256","kid":"hs-main","typ":"whatever"}"#) == nil)
    }

    @Test func failureReasonsAreStable() {
        let all: [JWTFailure] = [.malformed, .tooLarge, .algNone, .algUnsupported, .critUnsupported, .unknownKid,
                                 .badSignature, .expired, .notYetValid, .issuedInFuture, .missingExp, .badIssuer,
                                 .badAudience, .badTyp, .badClaims]
        #expect(all.map(\.reason) == [
            "jwt_malformed", "jwt_too_large", "jwt_alg_none", "jwt_alg_unsupported", "jwt_crit_unsupported",
            "jwt_unknown_kid", "jwt_bad_signature", "jwt_expired", "jwt_not_yet_valid", "jwt_issued_in_future",
            "jwt_missing_exp", "jwt_bad_issuer", "jwt_bad_audience", "jwt_bad_typ", "jwt_bad_claims",
        ])
        #expect(all.map(\.description) == all.map(\.reason))
    }
}
