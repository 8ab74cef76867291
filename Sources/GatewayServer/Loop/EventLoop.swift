import GatewayCore
import GatewayCrypto
import GatewayHTTP
import GatewayStore
import GatewaySupport
import GatewaySystem

/// One event loop: an epoll instance, the channels registered with it, a coarse deadline sweep,
/// and the config snapshot its new requests use. Runs on its own thread; everything here is
/// confined to that thread except what `ServerShared` exposes.
final class EventLoop {
    let id: Int
    let shared: ServerShared
    let epoll: Epoll
    private let wakeChannelFD: WakeupFD
    private(set) var channels: [Channel] = []
    private var graveyard: [Channel] = []
    /// Monotonic milliseconds, refreshed once per iteration.
    private(set) var now: Int64 = MonotonicClock.nowMilliseconds()
    private var nextSweep: Int64 = 0

    /// The snapshot new requests start with; in-flight requests keep the one they started with.
    private(set) var runtime: Runtime
    private var drainingSince: Int64 = 0
    var isDraining: Bool { drainingSince != 0 }
    var listeners: [Listener] = []
    /// Client connections currently open on this loop.
    var clientCount = 0

    // Scratch space reused by every request on this loop (loop-confined, so never shared).
    /// The access pipeline's per-loop space: the normalized path, route parameters, the key
    /// index and the rendered-identity cache.
    let access: AccessScratch
    /// This loop's counters (`/metrics` sums every loop's).
    let metrics: LoopMetrics
    /// Deny reason -> the registry's label slot, so a failed authentication is counted
    /// without taking the registry's lock (loop-confined).
    private var reasonSlots: [String: Int] = [:]
    var forwardPath: [UInt8] = []
    var requestHeadBuilder = RequestHeadBuilder()
    var responseHeadBuilder = ResponseHeadBuilder()
    let logger: Logger
    let accessLog: AccessLogWriter
    private var usedKeys: [String: Int] = [:]
    private var identityTokenCache: [IdentityTokenKey: (line: [UInt8], reuseUntil: Int)] = [:]
    /// Client connections whose request waits for a JWKS fetch (`ClientConnection.waitForKeys`),
    /// retried when `ServerShared.keysGeneration` changes (or at their deadline).
    private var keyWaiters: [ClientConnection] = []
    private var seenKeysGeneration = 0
    /// Failed authentications since the last audit flush, by reason and client address
    /// (aggregated so a flood writes one row per pair and interval, not one per request).
    private var authFailures: [AuthFailureKey: Int] = [:]
    private var nextAuthFailureFlush: Int64 = 0
    /// Token-service requests waiting for the store, by ticket (`submitStoreJob`).
    private var storeWaiters: [Int: ClientConnection] = [:]
    private var lastStoreTicket = 0
    /// Requests that found no idle upstream connection during this pass, and the pools that
    /// went over their capacity in it (`settleUpstreamConnections`).
    private var upstreamWaiters: [ClientConnection] = []
    private var settlingWaiters: [ClientConnection] = []
    private var overfullPools: [IdlePool] = []
    private var dateSecond = 0
    private var dateLine: [UInt8] = []

    /// Hands the access scratch the API-key index the store watcher published last (a new
    /// generation may revoke what an older one accepted; -1 without a store).
    func refreshKeyIndex() {
        guard let keys = shared.keys else { return }
        let generation = keys.generation
        if generation != access.keyGeneration { access.useKeyIndex(keys.index(), generation: generation) }
    }

    /// The `X-Auth-Identity` header line for an identity and audience, minted at most once per
    /// half token lifetime per loop. The cache is keyed on the exact identity the token states,
    /// never on a rendering of it. Nil when signing failed (logged; the request goes on without
    /// the header).
    func identityTokenLine(identity: Identity, audience: String, issuer: TokenIssuer) -> [UInt8]? {
        let now = WallClock.now()
        let key = IdentityTokenKey(identity: identity, audience: audience)
        if let cached = identityTokenCache[key], now < cached.reuseUntil { return cached.line }
        let token: [UInt8]
        do {
            token = try issuer.identityToken(identity, audience: audience, now: Int64(now))
        } catch {
            logger.error("identity token signing failed", [("error", error.message)])
            return nil
        }
        var line: [UInt8] = []
        line.append("X-Auth-Identity: ")
        line += token
        line.append("\r\n")
        if identityTokenCache.count >= 10_000 { identityTokenCache.removeAll(keepingCapacity: true) }
        identityTokenCache[key] = (line, now + Int(TokenIssuer.identityTokenLifetime / 2))
        return line
    }

    /// Remembers that a key was used; handed to the store in batches (not a write per request).
    func noteKeyUsed(_ id: String) {
        let now = WallClock.now()
        if id == lastUsedKey && now == lastUsedSecond { return }
        lastUsedKey = id
        lastUsedSecond = now
        usedKeys[id] = now
    }
    private var lastUsedKey = ""
    private var lastUsedSecond = 0

    /// `Date: <IMF-fixdate>\r\n`, rendered at most once per second per loop.
    func dateHeader() -> [UInt8] {
        let second = WallClock.now()
        if second != dateSecond {
            dateSecond = second
            dateLine = Array("Date: \(WallClock.httpDate(second))\r\n".utf8)
        }
        return dateLine
    }

    init(id: Int, shared: ServerShared, logger: Logger) throws(SystemError) {
        self.id = id
        self.shared = shared
        self.logger = logger
        epoll = try Epoll()
        wakeChannelFD = shared.wakeups[id]
        runtime = shared.currentRuntime()
        metrics = shared.metrics.loops[id]
        access = AccessScratch(jwtCache: metrics.jwtCache)
        accessLog = AccessLogWriter()
        accessLog.queue = shared.accessLog
        forwardPath.reserveCapacity(1024)
        try epoll.add(wakeChannelFD.fd, [.readable], token: 0)
    }

    /// Registers a channel (edge-triggered, read and write interest) and tracks it.
    func register(_ channel: Channel) throws(SystemError) {
        let token = UInt64(UInt(bitPattern: Unmanaged.passUnretained(channel).toOpaque()))
        try epoll.add(channel.fd, [.readable, .writable, .readHangup, .edgeTriggered], token: token)
        channel.slot = channels.count
        channels.append(channel)
    }

    /// Called by `Channel.close()`.
    func unregister(_ channel: Channel) {
        // Closing the descriptor takes it out of the epoll set (no channel's descriptor is ever
        // duplicated), so no EPOLL_CTL_DEL: one syscall less per connection.
        Socket.close(channel.fd)
        let slot = channel.slot
        if slot >= 0 && slot < channels.count && channels[slot] === channel {
            let last = channels.removeLast()
            if slot < channels.count {
                channels[slot] = last
                last.slot = slot
            }
        }
        channel.slot = -1
        graveyard.append(channel)
    }

    /// Runs until drained after a stop request.
    func run() {
        while true {
            let timeout: Int32 = 100
            let count = epoll.wait(timeoutMilliseconds: timeout)
            now = MonotonicClock.nowMilliseconds()
            for index in 0..<count {
                let (token, events) = epoll.event(index)
                if token == 0 {
                    wakeChannelFD.drain()
                    continue
                }
                // The token is an unretained pointer to a channel that `channels` (or, if it was
                // closed during this batch, `graveyard`) keeps alive until the batch ends.
                let channel = Unmanaged<Channel>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(token))!).takeUnretainedValue()
                if !channel.isClosed { channel.handle(events) }
            }
            if !graveyard.isEmpty { graveyard.removeAll(keepingCapacity: true) }
            accessLog.flush()
            if !usedKeys.isEmpty, now >= nextSweep {
                shared.keys?.noteUsed(usedKeys)
                usedKeys.removeAll(keepingCapacity: true)
            }
            if shared.generation(for: id) != runtime.generation { adoptNewRuntime() }
            if !storeWaiters.isEmpty, let worker = shared.storeWorker { deliverStoreResults(worker.takeResults(loop: id)) }
            let keysGeneration = shared.keysGeneration
            if keysGeneration != seenKeysGeneration {
                seenKeysGeneration = keysGeneration
                resumeKeyWaiters()
            }
            if now >= nextSweep {
                nextSweep = now + 100
                sweepDeadlines()
                if !authFailures.isEmpty && now >= nextAuthFailureFlush { flushAuthFailures() }
            }
            if !upstreamWaiters.isEmpty || !overfullPools.isEmpty { settleUpstreamConnections() }
            if shared.isStopping && !isDraining { beginDrain() }
            if isDraining {
                if clientCount == 0 || now - drainingSince > runtime.config.limits.drainTimeout.milliseconds { break }
            }
        }
        for channel in channels { channel.close() }
        if !authFailures.isEmpty { flushAuthFailures() }
        graveyard.removeAll()
        accessLog.flush()
    }

    private func sweepDeadlines() {
        let current = channels
        for channel in current where !channel.isClosed {
            if channel.sendDeadline != 0 && channel.sendDeadline <= now {
                channel.sendDeadline = 0
                channel.sendTimedOut()
                if channel.isClosed { continue }
            }
            if channel.deadline != 0 && channel.deadline <= now {
                channel.deadline = 0
                channel.deadlinePassed()
            }
        }
    }

    /// Parks a request that found no idle connection to its upstream until the end of this
    /// pass: a response finishing later in the same pass may return one (see `IdlePool`).
    func waitForUpstream(_ connection: ClientConnection) {
        upstreamWaiters.append(connection)
    }

    /// Called when `pool` goes over its capacity: it is trimmed at the end of this pass.
    func trimAtPassEnd(_ pool: IdlePool) {
        overfullPools.append(pool)
    }

    /// The end of a pass: the parked requests take the connections the pass's responses
    /// returned (or open new ones), then the pools shrink back to their capacity.
    private func settleUpstreamConnections() {
        // A request served here may wait again (its pooled connection turned out stale and it
        // is retried): loop until none waits, so no request is left parked with no deadline.
        while !upstreamWaiters.isEmpty {
            swap(&settlingWaiters, &upstreamWaiters)
            for connection in settlingWaiters where !connection.isClosed { connection.connectAfterWaiting() }
            settlingWaiters.removeAll(keepingCapacity: true)
        }
        for pool in overfullPools { pool.trim() }
        overfullPools.removeAll(keepingCapacity: true)
    }

    /// Parks `connection` until the next finished JWKS fetch.
    func waitForKeys(_ connection: ClientConnection) {
        keyWaiters.append(connection)
    }

    /// Forgets a connection that stopped waiting on its own (its deadline passed).
    func stopWaitingForKeys(_ connection: ClientConnection) {
        keyWaiters.removeAll { $0 === connection }
    }

    /// Hands `job` to the store worker; `connection` gets `storeJobFinished` with its result.
    /// - Returns: the ticket (for `forgetStoreJob`), or nil when there is no store.
    func submitStoreJob(_ job: StoreJob, for connection: ClientConnection) -> Int? {
        guard let worker = shared.storeWorker else { return nil }
        lastStoreTicket += 1
        storeWaiters[lastStoreTicket] = connection
        worker.submit(job, loop: id, ticket: lastStoreTicket)
        return lastStoreTicket
    }

    /// The connection stopped waiting (timed out or closed): its result is dropped.
    func forgetStoreJob(_ ticket: Int) {
        storeWaiters.removeValue(forKey: ticket)
    }

    /// Queues audit events; nobody waits for them (dropped without a store).
    func submitAudit(_ events: [AuditEvent]) {
        shared.storeWorker?.submit(.audit(events), loop: id, ticket: StoreWorker.noAnswer)
    }

    /// Counts a failed authentication for the metrics and the audit trail (SPEC §15). At most
    /// `maxAuthFailureKeys` pairs per audit interval; the rest are counted under client `other`.
    func noteAuthFailure(reason: String, client: [UInt8]) {
        if runtime.config.metrics {
            let slot: Int
            if let known = reasonSlots[reason] {
                slot = known
            } else {
                slot = shared.metrics.reasons.slot(for: reason)
                reasonSlots[reason] = slot
            }
            metrics.authFailures.add(slot)
        }
        guard shared.storeWorker != nil else { return }
        var key = AuthFailureKey(reason: reason, client: client)
        if authFailures[key] == nil && authFailures.count >= Self.maxAuthFailureKeys { key.client = Array("other".utf8) }
        authFailures[key, default: 0] += 1
        if nextAuthFailureFlush == 0 { nextAuthFailureFlush = now + Self.authFailureFlushMilliseconds }
    }

    static let maxAuthFailureKeys = 256
    static let authFailureFlushMilliseconds: Int64 = 10_000

    private func flushAuthFailures() {
        let time = WallClock.now()
        submitAudit(authFailures.map { key, count in
            AuditEvent(
                time: time, kind: "auth_failure", outcome: "denied",
                detail: "\(key.reason) from \(String(decoding: key.client, as: UTF8.self))", count: count)
        })
        authFailures.removeAll(keepingCapacity: true)
        nextAuthFailureFlush = 0
    }

    private func deliverStoreResults(_ results: [(ticket: Int, result: StoreJobResult)]) {
        for (ticket, result) in results {
            guard let connection = storeWaiters.removeValue(forKey: ticket), !connection.isClosed else { continue }
            connection.storeJobFinished(result)
        }
    }

    private func resumeKeyWaiters() {
        guard !keyWaiters.isEmpty else { return }
        let waiting = keyWaiters
        keyWaiters.removeAll(keepingCapacity: true)
        for connection in waiting where !connection.isClosed { connection.resumeAfterKeys() }
    }

    private func adoptNewRuntime() {
        let old = runtime
        runtime = shared.currentRuntime()
        old.upstreams.forEach { $0.closeIdle(loop: id) }
        logger.debug("config adopted", [("loop", "\(id)"), ("generation", "\(runtime.generation)")])
    }

    private func beginDrain() {
        drainingSince = now
        for listener in listeners { listener.close() }
        listeners.removeAll()
        for channel in channels {
            if let client = channel as? ClientConnection { client.drainIfIdle() }
        }
    }
}

@available(*, unavailable)
extension EventLoop: Sendable {}

/// One aggregation bucket of failed authentications.
private struct AuthFailureKey: Hashable {
    let reason: String
    var client: [UInt8]
}

/// What an identity token says: the identity and the upstream it is for.
private struct IdentityTokenKey: Hashable {
    let identity: Identity
    let audience: String
}
