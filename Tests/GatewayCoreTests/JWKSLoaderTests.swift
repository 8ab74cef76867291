import GatewayCrypto
import Testing

@testable import GatewayCore

/// JWKS documents as identity providers publish them (SPEC §5): keys the gateway cannot use
/// are skipped, the rest verify tokens; only a document with no usable signing key is refused.
@Suite("JWKS documents from identity providers")
struct JWKSLoaderTests {
    @Test(
        "unusable keys are skipped, the rest verify the provider's tokens",
        .bug(id: "review-13", "one enc/oct/unknown key made the whole document invalid"),
        arguments: IdPJWKSFixtures.documents.filter { !$0.usableKids.isEmpty })
    func providerDocument(_ document: IdPJWKSFixtures.Document) throws {
        let loaded = try JWKSLoader.keys(from: Array(document.json.utf8))
        #expect(loaded.keys.map { $0.kid ?? "" } == document.usableKids)
        #expect(loaded.skipped.count == document.skippedKids.count)
        for (line, kid) in zip(loaded.skipped, document.skippedKids) {
            #expect(line.hasPrefix("key \"\(kid)\": "))
        }
        let verifier = JWTVerifier(
            issuers: [JWTIssuerConfig(issuer: IdPJWKSFixtures.issuer, audiences: [IdPJWKSFixtures.audience])],
            keys: loaded.keys.map { JWTKeyEntry(kid: $0.kid, verifier: $0.key, issuer: IdPJWKSFixtures.issuer) })
        let result = verifier.verify(Array(document.token.utf8), now: IdPJWKSFixtures.now)
        guard case .success(let verified) = result else {
            Issue.record("\(document.name): token refused: \(result)")
            return
        }
        #expect(verified.identity.method == .jwt)
    }

    @Test("a document with no usable signing key is refused, naming what was skipped")
    func noUsableKey() throws {
        let document = try #require(IdPJWKSFixtures.documents.first { $0.usableKids.isEmpty })
        #expect {
            try JWKSLoader.keys(from: Array(document.json.utf8))
        } throws: { error in
            let message = (error as? JWKSError)?.message ?? ""
            return message.hasPrefix("no usable signing keys") && document.skippedKids.allSatisfy { message.contains($0) }
        }
        #expect(throws: JWKSError.self) { try JWKSLoader.keys(from: Array(#"{"keys":[]}"#.utf8)) }
        #expect(throws: JWKSError.self) { try JWKSLoader.keys(from: Array(#"{"kty":"RSA"}"#.utf8)) }
    }

    @Test("use and key_ops: only keys meant for verifying signatures")
    func signingUse() throws {
        let okta = try #require(IdPJWKSFixtures.documents.first { $0.name == "okta" })
        let key = try JWKSLoader.keys(from: Array(okta.json.utf8))
        #expect(key.skipped.isEmpty)
        let signingOps = okta.json.replacingOccurrences(of: #""use":"sig""#, with: #""key_ops":["verify"]"#)
        #expect(try JWKSLoader.keys(from: Array(signingOps.utf8)).keys.count == 1)
        for member in [#""use":"enc""#, #""use":"other""#, #""key_ops":["encrypt"]"#, #""use":7"#] {
            let changed = okta.json.replacingOccurrences(of: #""use":"sig""#, with: member)
            #expect(throws: JWKSError.self) { try JWKSLoader.keys(from: Array(changed.utf8)) }
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
