import Glibc
import Testing

@testable import GatewayCore

/// The flood test's figures, measured in a child process (see `RateLimiterFloodTests`).
private struct FloodReport {
    var growth = 0
    var peakBuckets = 0
    var denied = 0
    var busyDenied = false
}

/// Resident set size of this process in bytes (`/proc/self/statm`, second field, in pages).
private func residentBytes() -> Int {
    let fields = (readSmallFile("/proc/self/statm") ?? "").split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * sysconf(Int32(_SC_PAGESIZE))
}

/// The first 256 bytes of a file, without the trailing newline; nil when unreadable or empty.
private func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    return count > 0 ? String(decoding: buffer.prefix(count).filter { $0 != 10 }, as: UTF8.self) : nil
}

/// The key of principal number `n`, from its bytes (no String built).
private func key(_ limiter: RateLimiter, scope: Int = 1, _ n: Int) -> RateLimitKey {
    withUnsafeBytes(of: n) { limiter.key(scope: scope, principal: $0) }
}

@Suite("Rate limit: sharded bucket store")
struct RateLimiterTests {
    private let perMinute = RateLimitPolicy(Rate(count: 2, period: .seconds(60)))

    @Test("peek never consumes; check consumes only when allowed")
    func peekAndCheck() {
        let limiter = RateLimiter()
        let k = limiter.key(scope: 0, principal: "key-1")
        for _ in 0..<5 { #expect(limiter.peek(k, policy: perMinute, now: 0).remaining == 2) }
        #expect(limiter.bucketCount == 0)
        #expect(limiter.check(k, policy: perMinute, now: 0).remaining == 1)
        #expect(limiter.peek(k, policy: perMinute, now: 0).remaining == 1)
        #expect(limiter.check(k, policy: perMinute, now: 0).allowed)
        #expect(limiter.peek(k, policy: perMinute, now: 0).allowed == false)
        let denied = limiter.check(k, policy: perMinute, now: 1000)
        #expect(denied.allowed == false && denied.retryAfterSeconds == 29)
        #expect(limiter.check(k, policy: perMinute, now: 30_000).allowed)
        #expect(limiter.bucketCount == 1)
    }

    @Test("scopes and principals have independent buckets; String and bytes keys agree")
    func independentBuckets() {
        let limiter = RateLimiter()
        let one = RateLimitPolicy(Rate(count: 1, period: .seconds(60)))
        #expect(limiter.check(limiter.key(scope: 0, principal: "a"), policy: one, now: 0).allowed)
        #expect(limiter.check(limiter.key(scope: 1, principal: "a"), policy: one, now: 0).allowed)
        #expect(limiter.check(limiter.key(scope: 0, principal: "b"), policy: one, now: 0).allowed)
        let bytes: [UInt8] = Array("a".utf8)
        let fromBytes = bytes.withUnsafeBytes { limiter.key(scope: 0, principal: $0) }
        #expect(fromBytes == limiter.key(scope: 0, principal: "a"))
        #expect(limiter.check(fromBytes, policy: one, now: 0).allowed == false)
        // Another limiter keys the same principal differently (its own random seed).
        #expect(RateLimiter().key(scope: 0, principal: "a") != limiter.key(scope: 0, principal: "a"))
    }

    @Test(
        "a JWT principal is its issuer and subject",
        .bug(id: "review-12", "the same sub from two issuers shared one bucket"))
    func issuerAndSubject() {
        let limiter = RateLimiter()
        let one = RateLimitPolicy(Rate(count: 1, period: .seconds(60)))
        let a = limiter.key(scope: 2, issuer: "https://a.example", subject: "u1")
        #expect(limiter.check(a, policy: one, now: 0).allowed)
        #expect(limiter.check(a, policy: one, now: 0).allowed == false)
        #expect(limiter.check(limiter.key(scope: 2, issuer: "https://b.example", subject: "u1"), policy: one, now: 0).allowed)
        // The boundary between issuer and subject is part of the key.
        #expect(limiter.key(scope: 2, issuer: "ab", subject: "c") != limiter.key(scope: 2, issuer: "a", subject: "bc"))
        #expect(a == limiter.key(scope: 2, issuer: "https://a.example", subject: "u1"))
    }

    @Test("an idle bucket (TAT <= now) is dropped when next seen")
    func idleBucketsAreDropped() {
        let limiter = RateLimiter()
        let k = limiter.key(scope: 0, principal: "p")
        _ = limiter.check(k, policy: perMinute, now: 0)
        #expect(limiter.bucketCount == 1)
        #expect(limiter.peek(k, policy: perMinute, now: 29_999).remaining == 1)
        #expect(limiter.bucketCount == 1)
        #expect(limiter.peek(k, policy: perMinute, now: 30_000).remaining == 2)
        #expect(limiter.bucketCount == 0)
    }

    @Test("concurrent checks of one bucket allow exactly the burst")
    func concurrentChecks() async {
        let limiter = RateLimiter()
        let policy = RateLimitPolicy(Rate(count: 100, period: .seconds(3600)))
        let k = limiter.key(scope: 0, principal: "shared")
        let allowed = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<1000).reduce(0) { n, _ in n + (limiter.check(k, policy: policy, now: 5) .allowed ? 1 : 0) } }
            }
            return await group.reduce(0, +)
        }
        #expect(allowed == 100)
    }
}

@Suite("Rate limit: bucket table")
struct BucketTableTests {
    @Test("when full: idle buckets go first, then the smallest TATs, never above capacity")
    func evictionOrder() {
        var table = BucketTable(capacity: 16)
        #expect(table.maxSlots == 32)
        for key in 1...16 { table.set(Int64(1000 + key * 10), for: UInt64(key), now: 0) }
        // Full, nothing idle: the two smallest TATs (an eighth of 16) make room.
        table.set(5000, for: 17, now: 0)
        #expect(table.count == 15)
        #expect(table.tat(for: 1, now: 0) == nil && table.tat(for: 2, now: 0) == nil)
        #expect(table.tat(for: 3, now: 0) == 1030)
        // At 1055, keys 3...5 are idle: they alone are dropped when room is needed again.
        table.set(6000, for: 18, now: 1055)
        table.set(6000, for: 19, now: 1055)
        #expect(table.count == 14)
        for key in 6...19 { #expect(table.tat(for: UInt64(key), now: 1055) != nil, "\(key)") }
    }

    @Test("equal TATs: exactly one batch is evicted")
    func evictionTies() {
        var table = BucketTable(capacity: 64)
        for key in 1...64 { table.set(100, for: UInt64(key), now: 0) }
        table.set(100, for: 65, now: 0)
        #expect(table.count == 57)  // 64 - 8 (an eighth) + 1
    }

    @Test("matches a dictionary under random inserts, updates, lookups and idle drops")
    func modelCheck() {
        var table = BucketTable(capacity: 4096)
        var model: [UInt64: Int64] = [:]
        var random = SystemRandomNumberGenerator()
        var now: Int64 = 0
        for _ in 0..<50_000 {
            now += Int64.random(in: 0...3, using: &random)
            // Keys share low bits often, so probe runs wrap and shift.
            let key = UInt64.random(in: 1...3000, using: &random) << (Bool.random(using: &random) ? 0 : 20) | 1
            if Bool.random(using: &random) {
                let tat = now + Int64.random(in: 1...400, using: &random)
                table.set(tat, for: key, now: now)
                model[key] = tat
            } else {
                let expected = model[key].flatMap { $0 > now ? $0 : nil }
                #expect(table.tat(for: key, now: now) == expected)
                if expected == nil { model[key] = nil }
            }
            #expect(table.count <= 4096)
        }
        for (key, tat) in model where tat > now { #expect(table.tat(for: key, now: now) == tat) }
    }
}

/// The memory bound under a flood of distinct principals. Resident memory is per process and
/// other suites allocate in parallel, so the test re-runs this test binary with a filter
/// selecting only this suite and `GATEWAY_FLOOD_REPORT` naming a file: the child floods and
/// writes its figures, the parent asserts them.
@Suite("Rate limit: memory under a flood")
struct RateLimiterFloodTests {
    private static let reportVariable = "GATEWAY_FLOOD_REPORT"
    private static let maxBuckets = 65_536

    @Test("1,000,000 distinct principals: the bucket count and resident memory stay bounded")
    func flood() throws {
        if let path = getenv(Self.reportVariable).map({ String(cString: $0) }) {
            let report = Self.measure()
            let text = "\(report.growth) \(report.peakBuckets) \(report.denied) \(report.busyDenied ? 1 : 0)\n"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            _ = text.utf8CString.withUnsafeBytes { write(fd, $0.baseAddress, $0.count - 1) }
            close(fd)
            return
        }
        let directory = TemporaryDirectory()
        let path = directory.path + "/report"
        let status = try Self.runSelf(filter: "RateLimiterFloodTests", environment: "\(Self.reportVariable)=\(path)")
        #expect(status == 0)
        let fields = try #require(readSmallFile(path)).split(separator: " ").compactMap { Int($0) }
        try #require(fields.count == 4, "report: \(fields)")
        let tableBytes = RateLimiter(maxBuckets: Self.maxBuckets).maxTableBytes
        print("rate limiter flood: resident growth \(fields[0] / 1024) KiB, tables at most \(tableBytes / 1024) KiB, peak \(fields[1]) buckets")
        #expect(tableBytes == 2 * 1024 * 1024)
        #expect(fields[1] <= Self.maxBuckets && fields[1] > Self.maxBuckets / 2)
        #expect(fields[2] == 0)
        // The documented bound (every table at its largest) plus allocator slack and one
        // shard's transient rebuild.
        #expect(fields[0] < tableBytes + 2 * 1024 * 1024)
        // The flood evicted its own buckets (closest to idle), not the busy principal's.
        #expect(fields[3] == 1)
    }

    private static func measure() -> FloodReport {
        let limiter = RateLimiter(maxBuckets: maxBuckets)
        let policy = RateLimitPolicy(Rate(count: 600, period: .seconds(60), burst: 100))
        // A busy principal spends its whole burst first: its TAT is the furthest ahead.
        let busy = limiter.key(scope: 0, principal: "busy")
        for _ in 0..<100 { _ = limiter.check(busy, policy: policy, now: 1) }
        var report = FloodReport()
        let before = residentBytes()
        for n in 0..<1_000_000 {
            if !limiter.check(key(limiter, n), policy: policy, now: 1).allowed { report.denied += 1 }
            if n % 65_536 == 0 { report.peakBuckets = max(report.peakBuckets, limiter.bucketCount) }
        }
        report.growth = residentBytes() - before
        report.peakBuckets = max(report.peakBuckets, limiter.bucketCount)
        report.busyDenied = !limiter.check(busy, policy: policy, now: 1).allowed
        return report
    }

    /// Runs this test binary (swift-testing, `filter`) with one more environment variable,
    /// output discarded.
    /// - Returns: the exit status.
    private static func runSelf(filter: String, environment extra: String) throws -> Int32 {
        let arguments = [CommandLine.arguments[0], "--testing-library", "swift-testing", "--filter", filter]
        var environment: [String] = [extra]
        var entry = environ
        while let variable = entry.pointee {
            environment.append(String(cString: variable))
            entry += 1
        }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, nil, argv, envp)
        try #require(result == 0, "posix_spawn failed: \(result)")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }
}
