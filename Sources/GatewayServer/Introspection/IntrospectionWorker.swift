import GatewayCore
import GatewaySupport
import GatewaySystem
import Synchronization

/// Sends queued tokens to the introspection endpoint (RFC 7662 §2.1: `POST` of
/// `token=…&token_type_hint=access_token` with the gateway's client credentials in HTTP Basic)
/// on background threads, so event loops never wait on the network. After each answer,
/// `onAnswered` runs (the server wakes the loops so the waiting requests decide again).
///
/// Logs say which token by a prefix of its hash at most, never the token or the secret.
final class IntrospectionWorker: Sendable {
    /// Threads asking the endpoint in parallel.
    static let threadCount = 2
    /// The longest wait for a queued token before looking again for a reloaded introspector.
    static let tick = 100
    private let current = Mutex<Introspector?>(nil)
    private let stopping = Atomic<Bool>(false)
    private let client = BlockingHTTPClient.system()
    private let limits = JWKSFetchLimits(connectTimeout: 2_000, readTimeout: 4_000, maxBodyBytes: 64 * 1024)
    private let logger: Logger
    private let threads = (0..<IntrospectionWorker.threadCount).map { _ in BackgroundThread() }

    init(logger: Logger) {
        self.logger = logger
    }

    /// Adopts the introspector of a (re)loaded configuration.
    func track(_ introspector: Introspector?) {
        current.withLock { $0 = introspector }
    }

    /// Starts the threads. - Parameter onAnswered: runs after every answer.
    func start(onAnswered: @escaping @Sendable () -> Void) {
        for thread in threads {
            thread.start { [self] in
                while !stopping.load(ordering: .relaxed) {
                    guard let introspector = current.withLock({ $0 }) else {
                        usleepMilliseconds(Self.tick)
                        continue
                    }
                    guard introspector.waitForWork(milliseconds: Self.tick), let job = introspector.takeJob() else { continue }
                    ask(introspector, job)
                    onAnswered()
                }
            }
        }
    }

    /// Stops the threads and waits for them (a request to the endpoint in flight is bounded by
    /// its timeouts; past `stopBudget` the thread is left to end on its own).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        for thread in threads { thread.join(withinMilliseconds: GatewayServer.stopBudget) }
    }

    private func ask(_ introspector: Introspector, _ job: (hash: TokenHash, token: [UInt8])) {
        let config = introspector.config
        let response = client.trusting(introspector.tls).send(
            "POST", config.url,
            headers: introspector.authorizationHeader
                + "Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n",
            body: Introspector.requestBody(for: job.token), limits: limits)
        let answer = introspector.finish(job.hash, response: response, now: Int64(WallClock.now()))
        if case .failure(let error) = response {
            logger.warning("introspection failed", [("introspection.url", config.url.description), ("reason", error.message)])
        } else if answer == .unavailable {
            logger.warning("introspection answer unusable", [("introspection.url", config.url.description)])
        }
    }
}
