import Testing

@testable import GatewayCore

/// The per-connection credential memo (SPEC §5): it may only answer what the full check would.
@Suite("Credential memo")
struct CredentialMemoTests {
    let key = Array("gw_AAAAAAAAAAAA_secretsecretsecretsecretsecretsecr000000".utf8)
    let who = Identity(userID: "p1", method: .apiKey, keyID: "AAAAAAAAAAAA")

    func remembered(as credential: Credential) -> CredentialMemo {
        var memo = CredentialMemo()
        key.withUnsafeBytes {
            memo.remember(
                $0, as: credential, identity: who, renderKey: .apiKey("AAAAAAAAAAAA"), second: 10, runtimeGeneration: 1,
                keyGeneration: 1)
        }
        return memo
    }

    func recall(_ memo: CredentialMemo, as credential: Credential, second: Int = 10, keyGeneration: Int = 1) -> Identity? {
        key.withUnsafeBytes {
            memo.recall($0, as: credential, second: second, runtimeGeneration: 1, keyGeneration: keyGeneration)
        }
    }

    @Test(
        "the same bytes presented another way, or to another authenticator, are not recalled",
        .bug(id: "review-1", "an API key proved in X-API-Key was accepted as a Bearer JWT on an auth jwt route"))
    func keyIncludesPresentation() {
        let header = Credential(isAPIKey: true, source: .keyHeader)
        let memo = remembered(as: header)
        #expect(recall(memo, as: header) == who)
        #expect(recall(memo, as: Credential(isAPIKey: false, source: .bearer)) == nil)   // bearer off / JWT verifier
        #expect(recall(memo, as: Credential(isAPIKey: true, source: .bearer)) == nil)
        #expect(recall(memo, as: Credential(isAPIKey: true, source: .query)) == nil)
        let jwt = remembered(as: Credential(isAPIKey: false, source: .bearer))
        #expect(recall(jwt, as: Credential(isAPIKey: true, source: .keyHeader)) == nil)
    }

    @Test("another second or key index is a miss; other bytes are a miss")
    func freshness() {
        let header = Credential(isAPIKey: true, source: .keyHeader)
        let memo = remembered(as: header)
        #expect(recall(memo, as: header, second: 11) == nil)
        #expect(recall(memo, as: header, keyGeneration: 2) == nil)
        var other = key
        other[other.count - 1] ^= 1
        let missed = other.withUnsafeBytes {
            memo.recall($0, as: header, second: 10, runtimeGeneration: 1, keyGeneration: 1)
        }
        #expect(missed == nil)
    }
}
