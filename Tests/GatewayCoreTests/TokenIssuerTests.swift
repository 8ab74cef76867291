import GatewayCrypto
import Testing

@testable import GatewayCore

/// The gateway's own tokens (SPEC §10): minted by `TokenIssuer`, accepted by the verifier the
/// same configuration builds, and an identity token is never a credential.
@Suite("Token issuer")
struct TokenIssuerTests {
    static let environment = ["S": String(repeating: "s", count: 32), "OLD": String(repeating: "o", count: 32)]

    func load(_ extra: String = "") throws -> LoadedConfig {
        try LoadedConfig.load(text: """
            tokens {
                signing_key new HS256 env:S;
                signing_key old HS384 env:OLD;
                issuer https://gw.test;
                audience api other;
                access_ttl 2m;
            }
            \(extra)
            """, fileName: "t.conf", environment: Self.environment)
    }

    @Test("an access token round-trips through the configured verifier with its claims")
    func accessTokenRoundTrip() throws {
        let loaded = try load()
        let issuer = try #require(loaded.tokens)
        let jwt = try #require(loaded.jwt)
        var claims = AccessTokenClaims(subject: "alice", lifetime: issuer.accessTTL)
        claims.permissions = ["memory:read", "session:create"]
        claims.roles = ["reader"]
        claims.orgID = "acme"
        let now: Int64 = 1_800_000_000
        let token = try issuer.accessToken(claims, now: now)
        let verified = try jwt.verifier.verify(Array(token.utf8), now: now + 10).get()
        #expect(verified.identity.userID == "alice" && verified.identity.orgID == "acme")
        #expect(verified.identity.permissions == ["memory:read", "session:create"] && verified.identity.roles == ["reader"])
        #expect(verified.identity.keyID == "new" && verified.identity.tokenID != nil)
        #expect(verified.validUntil == now + 120 + 30 - 1)
        // Expired after its TTL (plus the leeway).
        #expect(throws: JWTFailure.self) { try jwt.verifier.verify(Array(token.utf8), now: now + 120 + 30).get() }
        // Each token has its own jti.
        let second = try issuer.accessToken(claims, now: now)
        #expect(try jwt.verifier.verify(Array(second.utf8), now: now).get().identity.tokenID != verified.identity.tokenID)
    }

    @Test("an identity token (X-Auth-Identity) is refused as a credential")
    func identityTokenIsNotACredential() throws {
        let loaded = try load()
        let issuer = try #require(loaded.tokens)
        let identity = Identity(userID: "alice", permissions: ["b", "a"], method: .apiKey, keyID: "k1")
        let now: Int64 = 1_800_000_000
        // Even when its audience is one the gateway accepts, the typ gives it away.
        for (audience, failure) in [("api", JWTFailure.badTyp), ("upstream", .badAudience)] {
            let token = try issuer.identityToken(identity, audience: audience, now: now)
            #expect(try #require(loaded.jwt).verifier.verify(token, now: now) == .failure(failure))
        }
        let token = try issuer.identityToken(identity, audience: "u", now: now)
        let parts = token.split(separator: UInt8(ascii: "."))
        let payload = String(decoding: try #require(Base64URL.decode(Array(parts[1]))), as: UTF8.self)
        #expect(payload.contains("\"permissions\":[\"a\",\"b\"]") && payload.contains("\"aud\":\"u\""))
        #expect(payload.contains("\"exp\":\(now + TokenIssuer.identityTokenLifetime)"))
        #expect(payload.contains("\"auth_method\":\"api_key\"") && payload.contains("\"key_id\":\"k1\""))
    }

    @Test("HMAC secrets are never published in the JWKS")
    func jwksHasNoSecrets() throws {
        let issuer = try #require(try load().tokens)
        #expect(issuer.jwks() == "{\"keys\":[]}")
    }

    @Test("a token signed by a previous signing key still verifies")
    func previousKeyVerifies() throws {
        let loaded = try load()
        let old = try SigningKey(hmacSecret: Array(String(repeating: "o", count: 32).utf8), algorithm: .hs384)
        let header = Base64URL.encode(Array(#"{"alg":"HS384","typ":"at+jwt","kid":"old"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"iss":"https://gw.test","aud":"other","sub":"bob","exp":1800000100}"#.utf8))
        let input = Array((header + "." + payload).utf8)
        let signature = try input.withUnsafeBytes { try old.sign($0) }
        let token = input + Array(("." + Base64URL.encode(signature)).utf8)
        #expect(try #require(loaded.jwt).verifier.verify(token, now: 1_800_000_000).map(\.identity.userID) == .success("bob"))
    }
}
