package import GatewayCore
package import GatewaySupport
import GatewaySystem
import Synchronization

/// The running gateway: binds the listeners, starts one event loop per worker, and turns
/// process signals into reloads (`SIGHUP`) and a graceful drain (`SIGTERM`/`SIGINT`).
package final class GatewayServer {
    private let logger: Logger
    private let configPath: String?
    private let environment: [String: String]
    private var loaded: LoadedConfig
    private var fetcher: JWKSFetcher? = nil
    private var introspection: IntrospectionWorker? = nil
    /// The public listen addresses as bound (port 0 resolved), for every runtime's own-authority check.
    private var boundListen: [ListenAddress] = []
    /// Milliseconds the JWKS fetches before serving (and for new URLs on reload) may take.
    static let initialFetchBudget: Int64 = 5_000
    /// Milliseconds a background thread (store, fetcher, log writer) gets to end after a stop:
    /// joined threads cannot race the process's exit; one stuck in a blocking call is left.
    static let stopBudget = 2_000

    /// - Parameters:
    ///   - loaded: the validated configuration to start with.
    ///   - configPath: the file `SIGHUP` re-reads; nil disables reloading (the demo).
    package init(loaded: LoadedConfig, configPath: String?, environment: [String: String], logger: Logger) {
        self.loaded = loaded
        self.configPath = configPath
        self.environment = environment
        self.logger = logger
    }

    /// Runs until `SIGTERM`/`SIGINT` and the drain that follows.
    /// - Parameter onListening: called once every listener is bound, with the public and
    ///   admin addresses actually bound (ports resolved when port 0 was asked for).
    /// - Returns: the process exit code.
    /// - Throws: `SystemError` when a listener cannot be bound.
    package func run(onListening: ([String]) -> Void = { _ in }) throws -> Int32 {
        ProcessSignals.blockControlSignals()
        let config = loaded.config
        let loopCount: Int
        switch config.workers {
        case .auto: loopCount = CPUs.online
        case .count(let n): loopCount = max(1, n)
        }
        var generation = 1
        // The key store is opened (created, migrated) and indexed before anything listens: its
        // index holds the API keys and the revoked token ids (`jti`).
        var watcher: KeyStoreWatcher? = nil
        if let storePath = config.storePath {
            watcher = try KeyStoreWatcher(path: storePath, logger: logger)
        }
        defer { watcher?.stop() }
        let metrics = MetricsRegistry(loopCount: loopCount)
        // JWKS URLs are fetched once before serving (bounded); failures are logged, not fatal.
        let fetcher = JWKSFetcher(logger: logger, metrics: metrics)
        self.fetcher = fetcher
        fetcher.track(loaded.jwt)
        fetcher.fetchNow(budget: Self.initialFetchBudget)
        defer { fetcher.stop() }
        // Bind every listener before starting any loop, so a bind error fails the start (and
        // closes what was bound already).
        let listeners = try Self.bindListeners(config, loopCount: loopCount, logger: logger)
        boundListen = listeners.publicAddresses
        let limiters = AccessLimiters()
        let accessLog = Self.startAccessLog(config.accessLog, logger: logger)
        defer { accessLog?.stop() }
        let shared = try ServerShared(
            runtime: Runtime(
                loaded: loaded, generation: generation, loopCount: loopCount, limiters: limiters, listen: boundListen, metrics: metrics),
            limiters: limiters, loopCount: loopCount, keys: watcher?.center, metrics: metrics, accessLog: accessLog,
            keyWaitMilliseconds: fetcher.maxWaitMilliseconds, storePath: config.storePath, logger: logger)
        shared.storeWorker?.start()
        defer { shared.storeWorker?.stop() }
        watcher?.start()
        fetcher.start { shared.fetchFinished() }
        let introspection = IntrospectionWorker(logger: logger)
        self.introspection = introspection
        introspection.track(loaded.introspector)
        introspection.start { shared.fetchFinished() }
        defer { introspection.stop() }
        let publicFDs = listeners.publicFDs
        let adminFD = listeners.adminFD
        let bound = listeners.descriptions

        var threads: [ThreadHandle] = []
        let logger = self.logger
        for index in 0..<loopCount {
            let fds = publicFDs[index]
            let admin = index == 0 ? adminFD : nil
            threads.append(OSThread.start {
                Self.runLoop(index: index, shared: shared, publicFDs: fds, adminFD: admin, logger: logger)
                shared.finishedLoops.add(1, ordering: .releasing)
            })
        }
        onListening(bound)

        var stopping = false
        var stopRequestedAt: Int64 = 0
        while shared.finishedLoops.load(ordering: .acquiring) < loopCount {
            switch ProcessSignals.wait(timeoutMilliseconds: 200) {
            case .reload?:
                guard !stopping else { break }
                generation += 1
                reload(shared: shared, generation: generation, loopCount: loopCount)
            case .reopenLogs?:
                accessLog?.reopen()
            case .terminate?, .interrupt?:
                if stopping {
                    // A terminal's Ctrl-C can arrive twice (to the process group and forwarded
                    // by a wrapper such as `swift run`): only a later signal cancels the drain.
                    guard MonotonicClock.nowMilliseconds() - stopRequestedAt > 1_000 else { break }
                    logger.warning("second stop signal: exiting without draining")
                    return 1
                }
                stopping = true
                stopRequestedAt = MonotonicClock.nowMilliseconds()
                logger.info("stopping: draining in-flight requests")
                shared.stop()
            case .other?, nil:
                break
            }
        }
        for thread in threads { thread.join() }
        logger.info("stopped")
        return 0
    }

    private func reload(shared: ServerShared, generation: Int, loopCount: Int) {
        guard let configPath else {
            logger.warning("reload ignored: no configuration file")
            return
        }
        do {
            // A jwks_url still configured keeps its key source, and so its last good keys.
            let next = try LoadedConfig.load(
                path: configPath, environment: environment, reusing: loaded.jwt?.keySources.map(\.source) ?? [],
                reusingIntrospector: loaded.introspector)
            // Certificates reload with the rest; the sockets themselves stay as bound.
            if next.config.listen.map(\.endpoint) != loaded.config.listen.map(\.endpoint)
                || next.config.adminListen?.endpoint != loaded.config.adminListen?.endpoint
                || next.config.workers != loaded.config.workers || next.config.accessLog != loaded.config.accessLog {
                logger.warning("reload: listen, admin_listen, workers and access_log changes take effect on restart")
            }
            loaded = next
            fetcher?.track(next.jwt)
            introspection?.track(next.introspector)
            fetcher?.fetchNow(budget: Self.initialFetchBudget)
            shared.publish(Runtime(
                loaded: next, generation: generation, loopCount: loopCount, limiters: shared.limiters, listen: boundListen,
                metrics: shared.metrics))
            shared.metrics.reloadsSucceeded.add(1, ordering: .relaxed)
            logger.info("config reloaded", [("config.path", configPath), ("generation", "\(generation)")])
        } catch {
            shared.metrics.reloadsFailed.add(1, ordering: .relaxed)
            for diagnostic in error.diagnostics {
                logger.error("config reload failed; keeping the running configuration", [("error", diagnostic.description)])
            }
        }
    }

    /// The listening sockets of one start: per loop the public ones (SO_REUSEPORT), and the
    /// admin one.
    private struct BoundListeners {
        var publicFDs: [[Int32]]
        var adminFD: Int32? = nil
        /// The public addresses actually bound (port 0 resolved): the only authorities an
        /// absolute-form request may name.
        var publicAddresses: [ListenAddress] = []
        /// Every bound address as text, public first, then admin.
        var descriptions: [String] = []
    }

    /// Binds every public listener once per loop and the admin listener.
    /// - Throws: the first bind error, after closing what was bound before it.
    private static func bindListeners(_ config: GatewayConfig, loopCount: Int, logger: Logger) throws(SystemError) -> BoundListeners {
        var bound = BoundListeners(publicFDs: Array(repeating: [], count: loopCount))
        do throws(SystemError) {
            let listenAddresses = config.listen.isEmpty ? [ListenAddress(host: "127.0.0.1", port: 8080)] : config.listen
            for listen in listenAddresses {
                guard var address = SocketAddress(host: listen.host, port: listen.port) else {
                    throw SystemError("listen \(listen): not an IP address", code: 22)
                }
                try Socket.ensureNobodyListens(on: address)
                for loop in 0..<loopCount {
                    let fd = try Socket.listen(address, reusePort: true)
                    bound.publicFDs[loop].append(fd)
                    if loop == 0, let actual = Socket.localAddress(fd) { address = actual }
                }
                bound.publicAddresses.append(ListenAddress(host: listen.host, port: address.port))
                bound.descriptions.append(address.description)
                logger.info("listening", [
                    ("listener", "public"), ("addr", address.description), ("tls", listen.tls == nil ? "off" : "on"),
                    ("workers", "\(loopCount)"),
                ])
            }
            if let admin = config.adminListen {
                guard let address = SocketAddress(host: admin.host, port: admin.port) else {
                    throw SystemError("admin_listen \(admin): not an IP address", code: 22)
                }
                let fd = try Socket.listen(address, reusePort: false)
                bound.adminFD = fd
                let actual = Socket.localAddress(fd) ?? address
                bound.descriptions.append(actual.description)
                logger.info("listening", [("listener", "admin"), ("addr", actual.description), ("tls", admin.tls == nil ? "off" : "on")])
            }
            return bound
        } catch {
            for fd in bound.publicFDs.joined() { Socket.close(fd) }
            if let fd = bound.adminFD { Socket.close(fd) }
            throw error
        }
    }

    private static func runLoop(index: Int, shared: ServerShared, publicFDs: [Int32], adminFD: Int32?, logger: Logger) {
        let loop: EventLoop
        do {
            loop = try EventLoop(id: index, shared: shared, logger: logger)
            for (index, fd) in publicFDs.enumerated() {
                let listener = Listener(loop: loop, fd: fd, isAdmin: false, listenIndex: index)
                try loop.register(listener)
                loop.listeners.append(listener)
            }
            if let adminFD {
                let listener = Listener(loop: loop, fd: adminFD, isAdmin: true)
                try loop.register(listener)
                loop.listeners.append(listener)
            }
        } catch {
            logger.error("event loop failed to start", [("loop", "\(index)"), ("error", error.description)])
            shared.stop()
            return
        }
        loop.run()
    }

    /// The access log's writer thread (nil when `access_log off;`). A file that cannot be
    /// opened falls back to standard output (with an error logged).
    private static func startAccessLog(_ target: AccessLogTarget, logger: Logger) -> AccessLogQueue? {
        switch target {
        case .off: return nil
        case .stdout: return AccessLogQueue(path: nil, logger: logger)
        case .file(let path):
            if let queue = AccessLogQueue(path: path, logger: logger) { return queue }
            logger.error("cannot open access log; writing it to stdout", [("path", path)])
            return AccessLogQueue(path: nil, logger: logger)
        }
    }
}
