import GatewaySupport

/// Per-loop buffer of access-log lines (SPEC §15), handed to the log's writer thread once per
/// loop iteration, so the request path never makes a syscall or waits for logging. Loop-confined.
final class AccessLogWriter {
    private var pending: [UInt8] = []
    private var pendingLines = 0
    /// The writer thread; nil when the access log is off.
    var queue: AccessLogQueue? = nil
    var isOn: Bool { queue != nil }

    init() { pending.reserveCapacity(16 * 1024) }

    /// One JSON line. Values are ASCII the gateway produced or validated, or escaped identity
    /// fields (no secrets).
    func record(_ entry: AccessLogEntry) {
        guard queue != nil else { return }
        var line = "{\"time\":\"\(WallClock.iso8601Now())\",\"request_id\":\"\(entry.requestID)\",\"client\":\"\(entry.client)\",\"method\":\"\(entry.method)\",\"path\":"
        JSON.appendString(entry.path, to: &line)
        line += ",\"route\":"
        JSON.appendString(entry.route, to: &line)
        line += ",\"status\":\(entry.status),\"decision\":\"\(entry.decision)\",\"reason\":\"\(entry.reason)\",\"principal\":"
        JSON.appendString(entry.principal, to: &line)
        line += ",\"key_id\":"
        JSON.appendString(entry.keyID, to: &line)
        line += ",\"upstream\":\"\(entry.upstream)\",\"bytes\":\(entry.bytes),\"duration_ms\":\(entry.durationMilliseconds)}\n"
        pending.append(contentsOf: line.utf8)
        pendingLines += 1
        if pending.count > 64 * 1024 { flush() }
    }

    func flush() {
        guard !pending.isEmpty, let queue else { return }
        queue.submit(&pending, lines: pendingLines)
        pendingLines = 0
        if pending.capacity < 16 * 1024 { pending.reserveCapacity(16 * 1024) }
    }
}

/// The fields of one access-log line.
struct AccessLogEntry {
    var requestID: String
    var client: String
    var method: String
    var path: String
    var route: String
    var status: Int
    var decision: String
    var reason: String
    /// The authenticated user id (empty when anonymous); never a credential.
    var principal: String
    /// The API key id or the JWT's `kid`; empty when none.
    var keyID: String
    var upstream: String
    var bytes: Int
    var durationMilliseconds: Int64
}
