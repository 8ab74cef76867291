import Dispatch
import GatewayCore
import GatewayStore
import GatewaySupport
import GatewaySystem
import Synchronization

/// A write the token service needs from the store.
enum StoreJob: Sendable {
    case issueRefresh(keyID: String, principalID: String, scope: [String], ttl: Int, familyTTL: Int)
    case rotateRefresh(token: String, ttl: Int, clientKeyID: String?)
    case revokeRefresh(token: String)
    case revokeAccessToken(jti: String, expiresAt: Int)
    case audit([AuditEvent])
    case admin(AdminRequest)
    case register(Registration.Request)
}

/// What a job came to.
enum StoreJobResult: Sendable, Equatable {
    case issued(RefreshGrant)
    case rotation(RefreshOutcome)
    case done
    case admin(AdminResponse)
    /// The store failed (logged by the worker); the request gets a 503.
    case failed
}

/// The thread that runs the token service's SQLite writes, so that no event loop ever waits
/// on the store (SPEC §15): a loop submits a job with a ticket; the worker runs it on its own
/// connection (each write one transaction, committed before the answer) and hands the result
/// back to that loop's mailbox, waking the loop.
final class StoreWorker: Sendable {
    private struct Pending: Sendable {
        let job: StoreJob
        let loop: Int
        let ticket: Int
    }

    private let path: String
    private let logger: Logger
    private let thread = BackgroundThread()
    private let queue = Mutex<[Pending]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    /// Per loop: results waiting to be picked up.
    private let mailboxes: [Mailbox]

    private final class Mailbox: Sendable {
        let results = Mutex<[(ticket: Int, result: StoreJobResult)]>([])
    }
    private let wakeups: [WakeupFD]

    init(path: String, wakeups: [WakeupFD], logger: Logger) {
        self.path = path
        self.logger = logger
        self.wakeups = wakeups
        mailboxes = wakeups.map { _ in Mailbox() }
    }

    func start() { thread.start { [self] in run() } }

    /// Stops the thread once the queued writes are done, and waits for it (at most
    /// `GatewayServer.stopBudget`).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        wake.signal()
        thread.join(withinMilliseconds: GatewayServer.stopBudget)
    }

    /// The ticket of a job whose result nobody waits for.
    static let noAnswer = 0

    /// Any loop: queues `job`; its result arrives in `takeResults(loop:)` under `ticket`
    /// (unless it is `noAnswer`).
    func submit(_ job: StoreJob, loop: Int, ticket: Int) {
        queue.withLock { $0.append(Pending(job: job, loop: loop, ticket: ticket)) }
        wake.signal()
    }

    /// Loop `loop`: the results that arrived since the last call.
    func takeResults(loop: Int) -> [(ticket: Int, result: StoreJobResult)] {
        mailboxes[loop].results.withLock { box in
            defer { box.removeAll(keepingCapacity: true) }
            return box
        }
    }

    /// Bounded retention (SPEC §15), applied hourly: audit events older than 90 days or beyond
    /// the newest million, and refresh families that ended over a week ago.
    static let auditMaxAge = 90 * 86_400
    static let auditMaxRows = 1_000_000
    static let endedFamilyRetention = 7 * 86_400
    private static let pruneIntervalSeconds = 3600

    private func run() {
        var store: KeyStore? = nil
        defer { store?.close() }
        var nextPrune = 0
        while true {
            _ = wake.wait(timeout: .now() + .seconds(60))
            // Stopping: what was queued until now (the loops' last audit events) is written first.
            let stop = stopping.load(ordering: .relaxed)
            if !stop && WallClock.now() >= nextPrune {
                nextPrune = WallClock.now() + Self.pruneIntervalSeconds
                prune(&store)
            }
            let batch = queue.withLock { pending in
                defer { pending.removeAll(keepingCapacity: true) }
                return pending
            }
            if !batch.isEmpty || !stop { deliver(batch, results: run(batch, store: &store)) }
            if stop { return }
        }
    }

    /// Runs a batch in one transaction (group commit: one WAL fsync for every job that
    /// arrived meanwhile; each job is a savepoint, so one job's failure undoes only that job).
    /// Nothing is answered before the commit: an answered write is a durable write.
    private func run(_ batch: [Pending], store: inout KeyStore?) -> [StoreJobResult] {
        do {
            if store == nil { store = try KeyStore(path: path) }
            let opened = store!
            return try opened.database.transaction { () throws(StoreError) -> [StoreJobResult] in
                batch.map { pending in
                    do {
                        return try Self.perform(pending.job, on: opened)
                    } catch {
                        logger.error("token store write failed", [("error", "\(error)")])
                        return .failed
                    }
                }
            }
        } catch {
            logger.error("token store commit failed", [("error", "\(error)")])
            store?.close()
            store = nil   // reopened for the next batch
            return batch.map { _ in .failed }
        }
    }

    private func deliver(_ batch: [Pending], results: [StoreJobResult]) {
        for (pending, result) in zip(batch, results) where pending.ticket != Self.noAnswer {
            mailboxes[pending.loop].results.withLock { $0.append((pending.ticket, result)) }
            wakeups[pending.loop].signal()
        }
    }

    private func prune(_ store: inout KeyStore?) {
        do {
            if store == nil { store = try KeyStore(path: path) }
            try store!.pruneAudit(maxAge: Self.auditMaxAge, maxRows: Self.auditMaxRows)
            try store!.purgeRefreshFamilies(retention: Self.endedFamilyRetention)
        } catch {
            logger.error("store retention failed", [("error", "\(error)")])
            store?.close()
            store = nil
        }
    }

    private static func perform(_ job: StoreJob, on store: KeyStore) throws(StoreError) -> StoreJobResult {
        switch job {
        case .issueRefresh(let keyID, let principalID, let scope, let ttl, let familyTTL):
            return .issued(try store.issueRefreshToken(keyID: keyID, principalID: principalID, scope: scope, ttl: ttl, familyTTL: familyTTL))
        case .rotateRefresh(let token, let ttl, let clientKeyID):
            let outcome = try store.rotateRefreshToken(token, ttl: ttl, clientKeyID: clientKeyID)
            if case .reused(let family, let keyID, let principalID) = outcome {
                try store.appendAudit([AuditEvent(
                    time: WallClock.now(), kind: "refresh_reuse", outcome: "denied", principalID: principalID, keyID: keyID,
                    detail: "family \(family) revoked")])
            }
            return .rotation(outcome)
        case .revokeRefresh(let token):
            if let revoked = try store.revokeRefreshToken(token) {
                try store.appendAudit([AuditEvent(
                    time: WallClock.now(), kind: "refresh_revoked", outcome: "success", principalID: revoked.principalID,
                    keyID: revoked.keyID)])
            }
            return .done
        case .revokeAccessToken(let jti, let expiresAt):
            try store.revokeToken(jti: jti, expiresAt: expiresAt)
            return .done
        case .audit(let events):
            try store.appendAudit(events)
            return .done
        case .admin(let request):
            return .admin(try AdminAPI.handle(request, store: store))
        case .register(let request):
            return .admin(try Registration.perform(request, store: store))
        }
    }
}
