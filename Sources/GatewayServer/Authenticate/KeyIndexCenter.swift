import GatewayCore
import GatewayStore
import GatewaySupport
import GatewaySystem
import Synchronization

/// The API-key index every loop authenticates against, and the queue of last-used times going
/// back to the store. Published by the store watcher; read lock-free by loops (an atomic
/// generation tells a loop when to fetch the new index). Every member is thread-safe.
final class KeyIndexCenter: Sendable {
    private let current: Mutex<APIKeyIndex>
    private let generationValue = Atomic<Int>(0)
    private let lastUsed = Mutex<[String: Int]>([:])

    init(index: APIKeyIndex) { current = Mutex(index) }

    var generation: Int { generationValue.load(ordering: .acquiring) }

    func index() -> APIKeyIndex { current.withLock { $0 } }

    func publish(_ index: APIKeyIndex) {
        current.withLock { $0 = index }
        generationValue.add(1, ordering: .releasing)
    }

    /// Loops hand over the keys they saw used (one entry per key per batch, not per request).
    func noteUsed(_ uses: [String: Int]) {
        lastUsed.withLock { pending in
            for (id, time) in uses where (pending[id] ?? 0) < time { pending[id] = time }
        }
    }

    func takeUsed() -> [String: Int] { lastUsed.withLock { pending in defer { pending = [:] }; return pending } }
}

/// A thread that keeps the key index in step with the SQLite store: it polls the store's
/// change counter every 250 ms (so a key revoked by the CLI or another process stops working
/// within about a quarter second) and writes batched last-used times once a second. The
/// request path never touches SQLite.
final class KeyStoreWatcher: Sendable {
    let center: KeyIndexCenter
    private let path: String
    private let stopping = Atomic<Bool>(false)
    private let thread = BackgroundThread()
    private let logger: Logger

    /// Opens (creating and migrating) the store and loads the first index synchronously, so
    /// keys work from the first request. - Throws: when the store cannot be opened.
    init(path: String, logger: Logger) throws(StoreError) {
        self.path = path
        self.logger = logger
        let store = try KeyStore(path: path)
        defer { store.close() }
        let snapshot = try store.loadIndexSnapshot()
        center = KeyIndexCenter(index: APIKeyIndex(snapshot: snapshot))
    }

    func start() { thread.start { [self] in run() } }

    /// Stops the thread and waits for it (at most `GatewayServer.stopBudget`).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        thread.join(withinMilliseconds: GatewayServer.stopBudget)
    }

    private func run() {
        // The connection is confined to this thread (the store is opened NOMUTEX).
        let store: KeyStore
        do {
            store = try KeyStore(path: path)
        } catch {
            logger.error("key store unavailable; keeping the loaded keys", [("store.path", path), ("error", "\(error)")])
            return
        }
        defer { store.close() }
        var seenCounter = center.index().changeCounter
        var ticks = 0
        while !stopping.load(ordering: .relaxed) {
            usleepMilliseconds(250)
            ticks += 1
            do {
                let counter = try store.changeCounter()
                if counter != seenCounter {
                    let snapshot = try store.loadIndexSnapshot()
                    center.publish(APIKeyIndex(snapshot: snapshot))
                    seenCounter = snapshot.changeCounter
                    logger.info("api keys reloaded", [("keys", "\(snapshot.records.count)")])
                }
                if ticks % 4 == 0 {
                    let used = center.takeUsed()
                    if !used.isEmpty { try store.recordLastUsed(used.map { (id: $0.key, time: $0.value) }) }
                }
            } catch {
                logger.warning("key store poll failed; keeping the loaded keys", [("error", "\(error)")])
            }
        }
        let used = center.takeUsed()
        if !used.isEmpty { try? store.recordLastUsed(used.map { (id: $0.key, time: $0.value) }) }
    }
}
