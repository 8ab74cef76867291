import GatewayHTTP

/// Everything one forwarded request needs while it is in flight, in one value: a fresh one
/// when forwarding starts (`ClientConnection.startForwarding`), reset when the request ends.
struct Forwarding {
    /// The upstream the route names; nil while not forwarding.
    var group: UpstreamGroup? = nil
    /// Servers already tried for this request (a bit per server index) and how many tries.
    var triedServers: UInt64 = 0
    var attempts = 0
    /// The request body's relay to the upstream.
    var body = RequestBodyRelay()
    /// The upstream response's relay (head, framing, re-framing).
    var relay = ResponseRelay()
    /// The server picked while the request waits for the end of the loop's pass for a
    /// connection to it (`EventLoop.waitForUpstream`).
    var waitingForServer: UpstreamServer? = nil
    /// The response head reached the client: a failure can no longer be answered with an error.
    var responseStarted = false
    var responseStatus = 0
    /// The request asked for a WebSocket upgrade.
    var wantsUpgrade = false
    /// Reading from the upstream stopped because the client's output is above the high-water mark.
    var upstreamPaused = false
    /// A WebSocket tunnel with no byte either way for this long is closed (`tunnel_idle_timeout`).
    var tunnelIdleMilliseconds: Int64 = 0
    /// When forwarding started (monotonic µs): the upstream latency histogram.
    var startMicros: Int64 = 0

    init() {}

    init(group: UpstreamGroup, wantsUpgrade: Bool) {
        self.group = group
        self.wantsUpgrade = wantsUpgrade
    }
}
