import Testing

@testable import GatewayCore

@Suite("Verified-token cache")
struct JWTCacheTests {
    private func hash(_ n: Int) -> TokenHash { TokenHash(token: Array("token-\(n)".utf8)) }
    private func identity(_ n: Int) -> Identity { Identity(userID: "u\(n)", method: .jwt) }
    private let now: Int64 = 1_700_000_000

    @Test func hitAndMiss() {
        let cache = VerifiedTokenCache(capacity: 10)
        #expect(cache.lookup(hash(1), now: now) == nil)
        cache.insert(hash(1), identity: identity(1), validUntil: now + 60, now: now)
        #expect(cache.lookup(hash(1), now: now) == identity(1))
        #expect(cache.lookup(hash(2), now: now) == nil)
        #expect(TokenHash(token: Array("token-1".utf8)) == hash(1))
    }

    @Test func expiryIsAMissAndDrops() {
        let cache = VerifiedTokenCache(capacity: 10)
        cache.insert(hash(1), identity: identity(1), validUntil: now + 60, now: now)
        #expect(cache.lookup(hash(1), now: now + 60) == identity(1))
        #expect(cache.lookup(hash(1), now: now + 61) == nil)
        #expect(cache.count == 0)
        // Already expired at insertion: not stored.
        cache.insert(hash(2), identity: identity(2), validUntil: now - 1, now: now)
        #expect(cache.count == 0)
    }

    @Test func maxAgeBoundsEntriesWithoutOrWithLateExp() {
        let cache = VerifiedTokenCache(capacity: 10, maxAge: 100)
        cache.insert(hash(1), identity: identity(1), validUntil: nil, now: now)
        cache.insert(hash(2), identity: identity(2), validUntil: now + 10_000, now: now)
        #expect(cache.lookup(hash(1), now: now + 100) == identity(1))
        #expect(cache.lookup(hash(1), now: now + 101) == nil)
        #expect(cache.lookup(hash(2), now: now + 101) == nil)
    }

    @Test func cachesVerifiedTokenUntilExpPlusLeeway() throws {
        let token = JWTFixture.token(header: #"{"alg":"HS256","kid":"hs-main"}"#, payload: JWTFixture.payload())
        let verified = try JWTFixture.verify(token).get()
        let cache = VerifiedTokenCache(capacity: 4, maxAge: 3600)
        let key = TokenHash(token: token)
        cache.insert(key, token: verified, now: JWTFixture.now)
        #expect(cache.lookup(key, now: JWTFixture.now + 329) == verified.identity)
        // The verifier would reject at exp + leeway; so must the cache.
        #expect(JWTFixture.failure(JWTFixture.verify(token, now: JWTFixture.now + 330)) == .expired)
        #expect(cache.lookup(key, now: JWTFixture.now + 330) == nil)
    }

    @Test func boundedUnderManyInserts() {
        let cache = VerifiedTokenCache(capacity: 100)
        for n in 0..<10_000 {
            cache.insert(hash(n), identity: identity(n), validUntil: now + 3600, now: now)
            #expect(cache.count <= 100)
        }
        #expect(cache.count == 100)
        let hits = (9_900..<10_000).filter { cache.lookup(hash($0), now: now) != nil }.count
        #expect(hits > 0)
    }

    @Test func smallCapacities() {
        for capacity in [1, 3, 16, 17] {
            let cache = VerifiedTokenCache(capacity: capacity)
            for n in 0..<500 { cache.insert(hash(n), identity: identity(n), validUntil: now + 10, now: now) }
            #expect(cache.count <= capacity)
        }
    }

    @Test func referencedEntriesSurviveEviction() {
        // One shard (capacity 1 per shard would be trivial): use capacity 16 → 16 shards of 1;
        // use capacity 32 and keep re-reading one hot key while inserting many cold keys.
        let cache = VerifiedTokenCache(capacity: 32)
        cache.insert(hash(0), identity: identity(0), validUntil: now + 3600, now: now)
        var survived = 0
        for n in 1..<2_000 {
            if cache.lookup(hash(0), now: now) != nil { survived += 1 }
            cache.insert(hash(n), identity: identity(n), validUntil: now + 3600, now: now)
        }
        #expect(survived == 1_999)
    }

    @Test func reinsertReplaces() {
        let cache = VerifiedTokenCache(capacity: 4)
        cache.insert(hash(1), identity: identity(1), validUntil: now + 5, now: now)
        cache.insert(hash(1), identity: identity(9), validUntil: now + 50, now: now)
        #expect(cache.count == 1)
        #expect(cache.lookup(hash(1), now: now + 20) == identity(9))
    }

    @Test func concurrentUse() async {
        let cache = VerifiedTokenCache(capacity: 256)
        let now = self.now
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for n in 0..<2_000 {
                        let key = TokenHash(token: Array("w\(worker)-\(n % 300)".utf8))
                        if cache.lookup(key, now: now) == nil {
                            cache.insert(key, identity: Identity(userID: "x", method: .jwt), validUntil: now + 60, now: now)
                        }
                    }
                }
            }
        }
        #expect(cache.count <= 256)
    }
}
