import GatewayCore
import GatewaySupport

/// A WebSocket tunnel (SPEC §8): after the relay accepted a `101`, bytes are copied both ways
/// with back-pressure, bounded by `tunnel_idle_timeout` and the send timeouts.
extension ClientConnection {
    /// The relay accepted a WebSocket switch and wrote its `101`: from now on bytes are copied
    /// both ways, bounded by `tunnel_idle_timeout`.
    func startTunnel(_ connection: UpstreamConnection) {
        forward.responseStatus = 101
        forward.responseStarted = true
        phase = .tunnel
        forward.body = RequestBodyRelay()
        connection.deadline = 0
        forward.tunnelIdleMilliseconds = forward.group?.tunnelIdleMilliseconds ?? runtime.config.limits.tunnelIdleTimeout.milliseconds
        deadline = loop.now + forward.tunnelIdleMilliseconds
        writeAccessLog(status: 101, decision: .allow, upstream: connection.server.authority)
        if !connection.input.isEmpty {
            output.append(connection.input.readableBytes)
            connection.input.clear()
        }
        if !input.isEmpty {
            connection.output.append(input.readableBytes)
            input.clear()
        }
        guard connection.flush() else { return abort() }
        guard flushOutput() else { return }
        if readable { pumpTunnelFromClient() }
        if upstream === connection && connection.readable { pumpTunnelFromUpstream() }
    }

    func pumpTunnelFromClient() {
        guard let connection = upstream else { return close() }
        if readable { deadline = loop.now + forward.tunnelIdleMilliseconds }
        while readable && !isClosed {
            if connection.output.readableCount >= Self.highWater {
                guard connection.flush() else { return abort() }
                if connection.output.readableCount >= Self.highWater { return }
            }
            if readAvailable(into: connection.output).endsStream {
                _ = connection.flush()
                return abort()
            }
        }
        guard connection.flush() else { return abort() }
    }

    func pumpTunnelFromUpstream() {
        guard let connection = upstream else { return }
        if connection.readable { deadline = loop.now + forward.tunnelIdleMilliseconds }
        while connection.readable && !isClosed {
            if output.readableCount >= Self.highWater {
                guard flushOutput() else { return }
                if output.readableCount >= Self.highWater { return }
            }
            if connection.readAvailable(into: output).endsStream {
                connection.close()
                upstream = nil
                closeWhenFlushed()
                return
            }
        }
        flushOutput()
    }
}
