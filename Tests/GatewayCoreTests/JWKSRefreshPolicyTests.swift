import Testing

@testable import GatewayCore

@Suite("JWKS refresh policy")
struct JWKSRefreshPolicyTests {
    typealias Policy = JWKSRefreshPolicy
    static let settings = Policy.Settings(
        refreshInterval: 600_000, unknownKidInterval: 30_000, initialBackoff: 5_000, maxBackoff: 300_000, negativeCacheCapacity: 16)

    /// A policy whose first fetch (at `at`) succeeded.
    private func fetched(at: Int64 = 0, settings: Policy.Settings = settings) -> Policy {
        var policy = Policy(settings: settings)
        policy.expectFetch(now: at)
        policy.succeeded(now: at)
        return policy
    }

    @Test func firstFetchIsDueAtOnceThenEveryInterval() {
        var policy = Policy(settings: Self.settings)
        #expect(policy.isDue(now: 0))
        policy.expectFetch(now: 0)
        #expect(!policy.isDue(now: 0))   // one fetch at a time
        policy.expectFetch(now: 0, false)
        policy.succeeded(now: 1_000)
        #expect(!policy.isDue(now: 600_999))
        #expect(policy.isDue(now: 601_000))
        policy.expectFetch(now: 601_000)
        policy.succeeded(now: 601_500)
        #expect(policy.nextFetchAt == 1_201_500)
    }

    @Test func unknownKidAsksForOneFetchPer30Seconds() {
        var policy = fetched()
        policy.expectKid("new", now: 10_000, .refreshPending)
        #expect(policy.isDue(now: 10_000))
        policy.expectFetch(now: 10_050)
        policy.expectKid("other", now: 10_060, .refreshPending)   // waits for the fetch in flight
        policy.succeeded(now: 10_100)
        // Still unknown after the fetch: no second fetch before 30 s have passed.
        policy.expectKid("new", now: 10_200, .unknown)
        policy.expectKid("third", now: 39_999, .unknown)
        #expect(!policy.isDue(now: 39_999))
        policy.expectKid("fourth", now: 40_000, .refreshPending)
        #expect(policy.isDue(now: 40_000))
    }

    @Test func unknownKidsWhileRateLimitedAreNegativelyCachedUntilTheWindowOpens() {
        var policy = fetched()
        policy.expectKid("a", now: 1_000, .refreshPending)
        policy.expectFetch(now: 1_000)
        policy.succeeded(now: 1_100)
        policy.expectKid("b", now: 2_000, .unknown)
        #expect(policy.negativeCount == 1)
        policy.expectKid("b", now: 30_999, .unknown)
        // The window opened: "b" is forgotten and may ask again.
        policy.expectKid("b", now: 31_000, .refreshPending)
    }

    @Test func aFloodOfRandomKidsCostsAtMostOneFetch() {
        var policy = fetched()
        var fetches = 0
        for i in 0..<200 {
            let now = Int64(1_000 + i * 10)
            _ = policy.unknownKid("random-\(i)", now: now)
            if policy.beginFetch(now: now) {
                fetches += 1
                policy.succeeded(now: now + 5)
            }
        }
        #expect(fetches == 1)
        #expect(policy.negativeCount <= Self.settings.negativeCacheCapacity)
    }

    @Test func negativeCacheIsBounded() {
        var cache = NegativeKidCache(capacity: 8)
        for i in 0..<1_000 { cache.insert("kid-\(i)", expiresAt: 60_000, now: 0) }
        #expect(cache.count <= 8)
        #expect(cache.contains("kid-999", now: 0))
        #expect(!cache.contains("kid-999", now: 60_000))
        // Expired entries make room before anything live is dropped.
        var ageing = NegativeKidCache(capacity: 2)
        ageing.insert("old", expiresAt: 10, now: 0)
        ageing.insert("live", expiresAt: 1_000, now: 0)
        ageing.insert("new", expiresAt: 1_000, now: 20)
        #expect(ageing.contains("live", now: 20) && ageing.contains("new", now: 20) && ageing.count == 2)
    }

    @Test func successClearsTheNegativeCache() {
        var policy = fetched()
        _ = policy.unknownKid("a", now: 1_000)
        policy.expectFetch(now: 1_000)
        policy.succeeded(now: 1_000)
        policy.expectKid("b", now: 2_000, .unknown)
        #expect(policy.negativeCount == 1)
        policy.expectFetch(now: 601_000)
        policy.succeeded(now: 601_000)
        #expect(policy.negativeCount == 0)
    }

    @Test func failuresBackOffExponentiallyWithinBounds() {
        var policy = Policy(settings: Self.settings)
        var delays: [Int64] = []
        var now: Int64 = 0
        for _ in 0..<9 {
            policy.expectFetch(now: now)
            let delay = policy.failed(now: now)
            delays.append(delay)
            #expect(!policy.isDue(now: now + delay - 1))
            now += delay
        }
        #expect(delays == [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000])
        #expect(policy.consecutiveFailures == 9)
        policy.succeeded(now: now)
        #expect(policy.consecutiveFailures == 0 && policy.nextFetchAt == now + 600_000)
    }

    @Test func backoffNeverExceedsTheRefreshInterval() {
        var policy = Policy(settings: Policy.Settings(refreshInterval: 30_000, initialBackoff: 5_000, maxBackoff: 300_000))
        var now: Int64 = 0
        var last: Int64 = 0
        for _ in 0..<6 {
            policy.expectFetch(now: now)
            last = policy.failed(now: now)
            now += last
        }
        #expect(last == 30_000)
    }

    @Test func aReloadedRefreshIntervalMovesTheNextFetch() {
        var policy = fetched(at: 1_000)
        policy.setRefreshInterval(60_000)
        #expect(policy.nextFetchAt == 61_000)
        #expect(policy.settings.refreshInterval == 60_000)
    }
}

extension JWKSRefreshPolicy {
    /// `beginFetch` as a statement (a mutating call cannot stand inside `#expect`).
    mutating func expectFetch(now: Int64, _ expected: Bool = true, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let began = beginFetch(now: now)
        #expect(began == expected, sourceLocation: sourceLocation)
    }

    /// `unknownKid` as a statement.
    mutating func expectKid(_ kid: String, now: Int64, _ expected: UnknownKidDecision, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let decision = unknownKid(kid, now: now)
        #expect(decision == expected, sourceLocation: sourceLocation)
    }
}
