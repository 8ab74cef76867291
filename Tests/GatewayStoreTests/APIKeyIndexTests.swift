import GatewayCrypto
import GatewayCore
import GatewayStore
import Testing

@Suite("API key index")
struct APIKeyIndexTests {
    static let now = 1_800_000_000

    /// A record and its key, built without a store.
    static func makeKey(prefix: String = "gw_", active: Bool = true, expiresAt: Int? = nil, graceUntil: Int? = nil) -> (KeyRecord, String) {
        let made = APIKeyFormat.generate(prefix: prefix)
        let record = KeyRecord(
            id: made.id, principalID: "user-1", name: "k", prefix: prefix, permissions: ["read"], roles: [],
            rateLimit: nil, orgID: nil, createdAt: 0, expiresAt: expiresAt, lastUsedAt: nil, active: active,
            rotatedFrom: nil, graceUntil: graceUntil, isLegacy: false,
            secretHash: Digest.sha256(Array(made.secret.utf8)), legacyHash: nil)
        return (record, made.key)
    }

    static func legacyRecord(key: String) -> KeyRecord {
        KeyRecord(
            id: APIKeyFormat.randomID(), principalID: "legacy", name: "old", prefix: "ck_", permissions: [], roles: [],
            rateLimit: nil, orgID: nil, createdAt: 0, expiresAt: nil, lastUsedAt: nil, active: true,
            rotatedFrom: nil, graceUntil: nil, isLegacy: true, secretHash: nil, legacyHash: Digest.sha256(Array(key.utf8)))
    }

    func auth(_ index: APIKeyIndex, _ key: String, now: Int = now) -> Result<KeyRecord, APIKeyFailure> {
        index.authenticate(presented: Array(key.utf8), prefixes: ["gw_"], legacyPrefixes: ["ck_"], now: now)
    }

    @Test("a valid key authenticates")
    func valid() throws {
        let (record, key) = Self.makeKey()
        let index = APIKeyIndex(records: [record])
        #expect(try auth(index, key).get() == record)
    }

    @Test("every failure reason")
    func failures() {
        let (good, goodKey) = Self.makeKey()
        let (revoked, revokedKey) = Self.makeKey(active: false)
        let (expired, expiredKey) = Self.makeKey(expiresAt: Self.now)
        let (graced, gracedKey) = Self.makeKey(graceUntil: Self.now - 1)
        let (_, unknownKey) = Self.makeKey()
        let index = APIKeyIndex(records: [good, revoked, expired, graced])
        #expect(index.count == 4)

        // Same id, another valid-looking secret: shape and checksum fine, hash differs.
        let otherSecret = APIKeyFormat.randomBase62(count: 32)
        let body = "gw_\(good.id)_\(otherSecret)"
        let wrongSecretKey = body + APIKeyFormat.checksum(of: Array(body.utf8))
        var flipped = Array(goodKey.utf8)
        flipped[20] = flipped[20] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")

        #expect(auth(index, "Bearer nonsense") == .failure(.malformed))
        #expect(auth(index, "") == .failure(.malformed))
        #expect(auth(index, String(decoding: flipped, as: UTF8.self)) == .failure(.badChecksum))
        #expect(auth(index, unknownKey) == .failure(.unknownID))
        #expect(auth(index, wrongSecretKey) == .failure(.wrongSecret))
        #expect(auth(index, expiredKey) == .failure(.expired))
        #expect(auth(index, expiredKey, now: Self.now - 1).map(\.id) == .success(expired.id))
        #expect(auth(index, revokedKey) == .failure(.inactive))
        #expect(auth(index, gracedKey) == .failure(.inactive))
        #expect(auth(index, gracedKey, now: Self.now - 2).map(\.id) == .success(graced.id))
        // A revoked key with a wrong secret reports the wrong secret (the holder is not proven).
        let revokedBody = "gw_\(revoked.id)_\(otherSecret)"
        #expect(auth(index, revokedBody + APIKeyFormat.checksum(of: Array(revokedBody.utf8))) == .failure(.wrongSecret))

        let reasons = Set([APIKeyFailure.malformed, .badChecksum, .unknownID, .wrongSecret, .expired, .inactive].map(\.reason))
        #expect(reasons == ["malformed", "bad_checksum", "unknown_id", "wrong_secret", "expired", "inactive"])
    }

    @Test("legacy keys are found by the hash of the whole key")
    func legacy() throws {
        let legacyKey = "ck_0123456789abcdefXYZ"
        let record = Self.legacyRecord(key: legacyKey)
        let (modern, modernKey) = Self.makeKey()
        let index = APIKeyIndex(records: [record, modern])
        #expect(try auth(index, legacyKey).get().id == record.id)
        #expect(auth(index, legacyKey + "x") == .failure(.unknownID))
        // Without the legacy prefix configured, the same text is just malformed.
        #expect(index.authenticate(presented: Array(legacyKey.utf8), prefixes: ["gw_"], legacyPrefixes: [], now: Self.now) == .failure(.malformed))
        #expect(try auth(index, modernKey).get().id == modern.id)
    }

    @Test("a legacy prefix that equals the key prefix still finds both kinds")
    func sharedPrefix() throws {
        let (modern, modernKey) = Self.makeKey(prefix: "ck_")
        let legacyKey = "ck_legacy-secret-value"
        let index = APIKeyIndex(records: [modern, Self.legacyRecord(key: legacyKey)])
        let run = { (key: String) in index.authenticate(presented: Array(key.utf8), prefixes: ["ck_"], legacyPrefixes: ["ck_"], now: Self.now) }
        #expect(try run(modernKey).get().id == modern.id)
        #expect(try run(legacyKey).get().principalID == "legacy")
    }

    @Test("an index built from a store snapshot authenticates store keys")
    func fromStore() throws {
        try withTemporaryDirectory { dir in
            let clock = TestClock(Self.now)
            try withStore(in: dir, clock: clock) { store in
                let a = try store.createKey(name: "a", principal: "p", expiresAt: Self.now + 100, prefix: "gw_")
                let b = try store.createKey(name: "b", principal: "p", prefix: "gw_")
                let legacyKey = "ck_whatever_legacy_1"
                let hex = Digest.sha256(Array(legacyKey.utf8)).map { String($0, radix: 16).leftPad(2) }.joined()
                try store.importLegacy(sha256Hex: hex, prefix: "ck_", name: "l", principal: "lp")
                let rotated = try store.rotate(id: b.record.id, grace: 60)
                try store.revoke(id: a.record.id)

                let index = APIKeyIndex(snapshot: try store.loadIndexSnapshot())
                #expect(index.changeCounter == 5)  // 2 creates, import, rotate, revoke
                #expect(auth(index, a.fullKey) == .failure(.inactive))
                #expect(try auth(index, b.fullKey).get().id == b.record.id)
                #expect(auth(index, b.fullKey, now: Self.now + 60) == .failure(.inactive))
                #expect(try auth(index, rotated.fullKey, now: Self.now + 60).get().rotatedFrom == b.record.id)
                #expect(try auth(index, legacyKey).get().principalID == "lp")
            }
        }
    }
}
