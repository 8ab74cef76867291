import GatewayCore
import GatewayHTTP
import GatewaySupport
import GatewaySystem
import GatewayTLS
import Synchronization

/// Everything a request needs from the configuration, resolved once per load: the unit that
/// `SIGHUP` replaces atomically. Requests capture the runtime they started with.
final class Runtime: Sendable {
    let generation: Int
    let config: GatewayConfig
    let routes: RouteTable<CompiledRoute>
    /// Each configured route's metrics label slot, by `CompiledRoute.index`.
    let routeMetricSlots: [Int]
    /// The `jwks_url` key sources `/readyz` waits for (each must have fetched keys once).
    let keySources: [JWKSKeySource]
    let upstreams: [UpstreamGroup]
    let trustProxies: [CIDR]
    /// `host:port` of every listen address (and `localhost:port` for 127.0.0.1), lower-case:
    /// the only authorities an absolute-form request target may name.
    let ownAuthorities: [[UInt8]]
    /// The access decision for this configuration (routes, authenticators, rules, limits).
    let access: AccessPipeline
    /// The API-key header's name, lower-case, removed before forwarding; empty without `api_keys`.
    let apiKeyHeaderName: [UInt8]
    /// The gateway's signing keys (`tokens`), for `X-Auth-Identity`; nil when not configured.
    let tokens: TokenIssuer?
    /// `decision_endpoint`, as the normalized path bytes it is compared with; nil when off.
    let decisionPath: [UInt8]?
    /// The token service's published documents (JWKS, RFC 8414 metadata); nil without `tokens`.
    let tokenDocuments: TokenServiceDocuments?
    /// RFC 9728 metadata documents by their path on the gateway; empty without `resource`.
    let resourceDocuments: [[UInt8]: [UInt8]]
    /// Each `listen` address's certificates (nil for plain HTTP), and the admin listener's.
    private let listenTLS: [ServerTLS?]
    private let adminTLS: ServerTLS?

    /// - Parameter listen: the public addresses as bound (a `listen` port 0 resolved).
    init(
        loaded: LoadedConfig, generation: Int, loopCount: Int, limiters: AccessLimiters, listen: [ListenAddress], metrics: MetricsRegistry
    ) {
        self.generation = generation
        config = loaded.config
        routes = loaded.routes
        routeMetricSlots = loaded.config.routes.map { metrics.routes.slot(for: $0.pattern) }
        keySources = loaded.jwt?.keySources.map(\.source) ?? []
        access = AccessPipeline(loaded: loaded, generation: generation, limiters: limiters)
        trustProxies = loaded.config.trustProxies
        upstreams = zip(loaded.config.upstreams, loaded.upstreamTLS).map { config, tls in
            UpstreamGroup(
                config: config, tls: tls, limits: loaded.config.limits, generation: generation, loopCount: loopCount,
                metricSlot: metrics.upstreams.slot(for: config.name))
        }
        var authorities: [[UInt8]] = []
        for address in listen {
            authorities.append(Array(address.description.lowercased().utf8))
            if address.host == "127.0.0.1" || address.host == "::1" { authorities.append(Array("localhost:\(address.port)".utf8)) }
        }
        ownAuthorities = authorities
        apiKeyHeaderName = loaded.config.apiKeys.map { Array($0.header.lowercased().utf8) } ?? []
        tokens = loaded.tokens
        decisionPath = loaded.config.decisionEndpoint.map { Array($0.utf8) }
        tokenDocuments = loaded.tokens.map { TokenServiceDocuments(issuer: $0, config: loaded.config) }
        listenTLS = loaded.listenTLS
        adminTLS = loaded.adminTLS
        resourceDocuments = Dictionary(
            uniqueKeysWithValues: ProtectedResource.documents(loaded.config).map { (Array($0.key.utf8), $0.value) })
    }

    /// The certificates a listener's new connections use; nil for a plain-HTTP listener.
    func serverTLS(isAdmin: Bool, listenIndex: Int) -> ServerTLS? {
        if isAdmin { return adminTLS }
        return listenIndex < listenTLS.count ? listenTLS[listenIndex] : nil
    }

    func isOwnAuthority(_ authority: UnsafeRawBufferPointer) -> Bool {
        ownAuthorities.contains { own in
            own.count == authority.count && zip(own, authority).allSatisfy { $0 == HTTPBytes.lowercased($1) }
        }
    }

    /// Whether forwarding headers from `peer` are believed (`trust_proxies`).
    func trusts(_ peer: SocketAddress) -> Bool {
        trustProxies.contains { $0.contains(peer.address) }
    }
}

/// An `upstream` block: its servers and the round-robin cursor.
final class UpstreamGroup: Sendable {
    let config: UpstreamConfig
    let servers: [UpstreamServer]
    private let cursor = Atomic<Int>(0)
    /// The upstream's metrics label slot.
    let metricSlot: Int
    let connectTimeoutMilliseconds: Int64
    let readTimeoutMilliseconds: Int64
    let sendTimeoutMilliseconds: Int64
    /// The upstream's own `tunnel_idle_timeout`, else the limit's.
    let tunnelIdleMilliseconds: Int64

    init(config: UpstreamConfig, tls: ClientTLS?, limits: LimitsConfig, generation: Int, loopCount: Int, metricSlot: Int) {
        self.config = config
        self.metricSlot = metricSlot
        servers = config.servers.enumerated().map { index, server in
            UpstreamServer(
                config: server, index: index, generation: generation, keepalive: config.keepalive, loopCount: loopCount,
                tls: server.tls ? tls : nil, tlsServerName: config.tls?.serverName)
        }
        connectTimeoutMilliseconds = config.connectTimeout.milliseconds
        readTimeoutMilliseconds = config.readTimeout.milliseconds
        sendTimeoutMilliseconds = config.sendTimeout.milliseconds
        tunnelIdleMilliseconds = (config.tunnelIdleTimeout ?? limits.tunnelIdleTimeout).milliseconds
    }

    /// The next server in round-robin order that is healthy and not in `tried` (a bit per
    /// server index). When every untried server is ejected, the least recently ejected one is
    /// tried anyway (better a probe than a certain 502).
    func pick(now: Int64, tried: UInt64) -> UpstreamServer? {
        let count = servers.count
        let start = cursor.add(1, ordering: .relaxed).oldValue
        var fallback: UpstreamServer? = nil
        for offset in 0..<count {
            let server = servers[(start &+ offset) % count]
            if server.index < 64 && tried & (1 << UInt64(server.index)) != 0 { continue }
            if server.isAvailable(now: now) { return server }
            if fallback == nil || server.ejectedUntil.load(ordering: .relaxed) < fallback!.ejectedUntil.load(ordering: .relaxed) {
                fallback = server
            }
        }
        return fallback
    }

    func closeIdle(loop: Int) {
        for server in servers { server.pools[loop].closeAll() }
    }
}

/// One upstream server: its address, passive-health state (shared by all loops through
/// atomics) and one idle keep-alive pool per event loop.
final class UpstreamServer: @unchecked Sendable {
    // `pools[i]` is only ever touched by event loop `i` (connections are loop-confined);
    // every other stored property is immutable or atomic.
    let address: SocketAddress
    /// `host:port`, rendered once: the Host sent for HTTP/1.0 requests that have none, and logs.
    let authority: String
    let index: Int
    let maxFails: Int
    let failTimeoutMilliseconds: Int64
    let failures = Atomic<Int>(0)
    let ejectedUntil = Atomic<Int64>(0)
    let pools: [IdlePool]
    /// The runtime generation this server belongs to: a connection finishing after a reload
    /// is closed instead of pooled in a runtime no request will use again.
    let generation: Int
    /// For an HTTPS server: the client context, and the name its certificate must cover
    /// (`tls_server_name`, else the configured host).
    let tls: ClientTLS?
    let tlsServerName: String

    init(
        config: UpstreamServerConfig, index: Int, generation: Int, keepalive: Int, loopCount: Int,
        tls: ClientTLS? = nil, tlsServerName: String? = nil
    ) {
        self.generation = generation
        self.tls = tls
        self.tlsServerName = tlsServerName ?? config.host
        address = SocketAddress(host: config.host, port: config.port) ?? SocketAddress(address: [127, 0, 0, 1], port: config.port)
        authority = address.description
        self.index = index
        maxFails = max(1, config.maxFails)
        failTimeoutMilliseconds = config.failTimeout.milliseconds
        pools = (0..<loopCount).map { _ in IdlePool(capacity: keepalive) }
    }

    func isAvailable(now: Int64) -> Bool { ejectedUntil.load(ordering: .relaxed) <= now }

    /// A connect error, reset or timeout: after `maxFails` in a row the server is skipped
    /// for `fail_timeout`. - Returns: whether this failure took the server out of rotation.
    func recordFailure(now: Int64) -> Bool {
        let count = failures.add(1, ordering: .relaxed).newValue
        guard count >= maxFails else { return false }
        ejectedUntil.store(now + failTimeoutMilliseconds, ordering: .relaxed)
        failures.store(0, ordering: .relaxed)
        return true
    }

    func recordSuccess() {
        if failures.load(ordering: .relaxed) != 0 { failures.store(0, ordering: .relaxed) }
    }
}

/// State shared by the control thread and every loop: the published runtime, stop flag,
/// connection count and wake-up descriptors. Every member is thread-safe.
final class ServerShared: Sendable {
    let wakeups: [WakeupFD]
    private let published: Mutex<Runtime>
    private let generationValue: Atomic<Int>
    private let stopping = Atomic<Bool>(false)
    let openConnections = Atomic<Int>(0)
    /// Event loops that have returned from `run` (the control thread waits for all).
    let finishedLoops = Atomic<Int>(0)
    let requestIDs = RequestIDGenerator()
    let loopCount: Int
    /// The API-key index, when a key store is configured.
    let keys: KeyIndexCenter?
    /// Counts finished JWKS fetches: a loop that sees it change retries the requests waiting
    /// for keys (`ClientConnection.waitForKeys`).
    private let keysGenerationValue = Atomic<Int>(0)
    /// How long a request waits for a JWKS fetch its unknown `kid` asked for (milliseconds).
    let keyWaitMilliseconds: Int64
    /// The rate-limit buckets (SPEC §7), shared by every loop and kept across reloads: each
    /// new runtime's pipeline gets these.
    let limiters: AccessLimiters
    /// The token service's writes (refresh tokens, revocations, audit), when a store is
    /// configured; started and stopped by `GatewayServer.run`.
    let storeWorker: StoreWorker?
    /// Every loop's counters and the label registries (`/metrics`).
    let metrics: MetricsRegistry
    /// The access log's writer thread; nil when the access log is off.
    let accessLog: AccessLogQueue?

    init(
        runtime: Runtime, limiters: AccessLimiters, loopCount: Int, keys: KeyIndexCenter?, metrics: MetricsRegistry,
        accessLog: AccessLogQueue?, keyWaitMilliseconds: Int64 = 8_000, storePath: String? = nil, logger: Logger? = nil
    ) throws(SystemError) {
        self.keys = keys
        self.metrics = metrics
        self.accessLog = accessLog
        self.limiters = limiters
        self.keyWaitMilliseconds = keyWaitMilliseconds
        var wakeups: [WakeupFD] = []
        for _ in 0..<loopCount { wakeups.append(try WakeupFD()) }
        self.wakeups = wakeups
        self.loopCount = loopCount
        storeWorker = storePath.map { StoreWorker(path: $0, wakeups: wakeups, logger: logger ?? Logger(level: .info)) }
        published = Mutex(runtime)
        generationValue = Atomic(runtime.generation)
    }

    func currentRuntime() -> Runtime { published.withLock { $0 } }

    func generation(for loop: Int) -> Int { generationValue.load(ordering: .acquiring) }

    /// Publishes a new runtime; loops adopt it for the next requests they start.
    func publish(_ runtime: Runtime) {
        published.withLock { $0 = runtime }
        generationValue.store(runtime.generation, ordering: .releasing)
        wakeups.forEach { $0.signal() }
    }

    var keysGeneration: Int { keysGenerationValue.load(ordering: .acquiring) }

    /// The JWKS fetcher finished a fetch, or the introspection worker got an answer (successful
    /// or not): wake every loop, whose waiting requests decide again.
    func fetchFinished() {
        keysGenerationValue.add(1, ordering: .releasing)
        wakeups.forEach { $0.signal() }
    }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        wakeups.forEach { $0.signal() }
    }
}
