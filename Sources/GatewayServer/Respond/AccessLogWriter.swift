import GatewaySupport

/// Per-loop buffer of access-log lines (SPEC §15), written once per loop iteration so the
/// request path never makes a syscall for logging. Loop-confined.
final class AccessLogWriter {
    private var pending: [UInt8] = []
    var sink: LogSink? = nil

    init() { pending.reserveCapacity(16 * 1024) }

    /// One JSON line. Values are ASCII the gateway produced or validated, or escaped identity
    /// fields (no secrets).
    func record(_ entry: AccessLogEntry) {
        guard sink != nil else { return }
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
        if pending.count > 64 * 1024 { flush() }
    }

    func flush() {
        guard !pending.isEmpty, let sink else { return }
        pending.withUnsafeBytes { sink.write($0) }
        pending.removeAll(keepingCapacity: true)
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
