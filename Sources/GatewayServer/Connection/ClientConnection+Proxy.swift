import GatewayCore
import GatewayHTTP
import GatewaySupport
import GatewaySystem

extension ClientConnection {
    // MARK: Starting

    /// Builds the upstream head, consumes the client's head and picks a server.
    func startForwarding(to group: UpstreamGroup) {
        // A client that already closed (or half-closed) its side is gone: nothing is forwarded.
        forward = Forwarding(group: group, wantsUpgrade: head.upgradeWebSocket && head.connectionUpgrade && request.method == .get)
        forward.startMicros = MonotonicClock.nowMicroseconds()
        guard !clientEnded && !hangupSeen else { return clientAborted() }
        var forwardPath: [UInt8] = []
        swap(&forwardPath, &loop.forwardPath)
        forwardPath.removeAll(keepingCapacity: true)
        let path = loop.access.path
        if let prefix = request.access.route?.stripPrefix, path.starts(with: prefix),
           path.count == prefix.count || path[prefix.count] == UInt8(ascii: "/") {
            forwardPath.append(contentsOf: path[prefix.count...])
            if forwardPath.isEmpty { forwardPath.append(UInt8(ascii: "/")) }
        } else {
            forwardPath.append(contentsOf: path)
        }
        let trusted = runtime.trusts(peer)
        let server = group.servers[0]
        let keepsCredentials = request.access.route?.forwardCredentials == true
        var upstreamHead: [UInt8] = []
        swap(&upstreamHead, &upstreamRequestHead)
        loop.requestHeadBuilder.build(
            head: head, bytes: input.readableBytes, path: forwardPath, peer: peerText, peerTrusted: trusted,
            requestID: request.id, upstreamAuthority: server.authority, websocket: forward.wantsUpgrade, secure: tls != nil,
            identityHeaders: identityHeaderBlock(), credentials: keepsCredentials ? nil : runtime.apiKeyHeaderName,
            stripQueryToken: request.access.route?.allowQueryToken == true && !keepsCredentials, into: &upstreamHead)
        swap(&upstreamHead, &upstreamRequestHead)
        swap(&forwardPath, &loop.forwardPath)
        input.consume(head.headLength)

        forward.body = RequestBodyRelay(
            head: head, maxBody: runtime.config.limits.maxBodyBytes,
            credentialHeader: keepsCredentials ? [] : runtime.apiKeyHeaderName)
        phase = .proxying
        if head.expectContinue && forward.body.isActive {
            output.append(ResponseWriter.continueResponse)
            guard flushOutput() else { return }
        }
        connectNextServer()
    }

    /// The identity headers for the current request (cached per API key or token; empty when
    /// anonymous), plus `X-Auth-Identity` when the route asks for it.
    func identityHeaderBlock() -> [UInt8] {
        guard let identity = request.access.identity, let rendered = request.access.rendered else { return [] }
        var block = rendered.headers
        if let audience = request.access.route?.identityTokenAudience, let issuer = runtime.tokens,
           let line = loop.identityTokenLine(identity: identity, audience: audience, issuer: issuer) {
            block += line
        }
        return block
    }

    /// Takes an idle connection or opens a new one to the next healthy server.
    private func connectNextServer(mayWait: Bool = true) {
        guard let group = forward.group else { return }
        while true {
            guard forward.attempts <= group.servers.count, let server = group.pick(now: loop.now, tried: forward.triedServers) else {
                failRequest(.upstreamUnavailable, reason: "upstream_unavailable")
                return
            }
            if use(server, of: group, mayWait: mayWait) { return }
        }
    }

    /// Attaches an idle connection to `server`, or opens one. With no idle connection and
    /// `mayWait`, the request first waits for the end of the loop's pass, when the responses
    /// finished in it have returned theirs (`EventLoop.waitForUpstream`).
    /// - Returns: false when the connect failed at once (the caller tries the next server).
    private func use(_ server: UpstreamServer, of group: UpstreamGroup, mayWait: Bool) -> Bool {
        let idle = server.pools[loop.id].take()
        if idle == nil && mayWait {
            forward.waitingForServer = server
            loop.waitForUpstream(self)
            return true
        }
        forward.attempts += 1
        if server.index < 64 { forward.triedServers |= 1 << UInt64(server.index) }
        if let idle {
            attach(idle)
            return true
        }
        do {
            let connection = try UpstreamConnection(loop: loop, server: server)
            connection.deadline = loop.now + group.connectTimeoutMilliseconds
            attach(connection)
            return true
        } catch {
            upstreamFailed(server, .connectFailed)
            loop.logger.warning("upstream connect failed", [("upstream.addr", server.authority), ("error", error.description)])
            return false
        }
    }

    /// The end of the pass the request waited for (`EventLoop.settleUpstreamConnections`).
    func connectAfterWaiting() {
        guard let server = forward.waitingForServer, let group = forward.group else { return }
        forward.waitingForServer = nil
        guard phase == .proxying && upstream == nil else { return }   // answered meanwhile
        if !use(server, of: group, mayWait: false) { connectNextServer(mayWait: false) }
    }

    private func attach(_ connection: UpstreamConnection) {
        connection.client = self
        connection.sendTimeoutMilliseconds = forward.group?.sendTimeoutMilliseconds ?? 0
        upstream = connection
        connection.output.append(upstreamRequestHead)
        if !connection.isConnecting { upstreamConnected(connection) }
    }

    // MARK: Upstream events

    func upstreamConnected(_ connection: UpstreamConnection) {
        guard let group = forward.group else { return }
        connection.deadline = loop.now + group.readTimeoutMilliseconds
        guard connection.flush() else { return upstreamBroken(connection) }
        if forward.body.isActive { pumpRequestBody() }
        if upstream === connection && connection.readable { upstreamReadable(connection) }
    }

    func upstreamConnectFailed(_ connection: UpstreamConnection) {
        upstreamFailed(connection.server, .connectFailed)
        var fields = [("upstream.addr", connection.server.authority), ("request.id", String(decoding: request.id, as: UTF8.self))]
        if !connection.failureReason.isEmpty { fields.append(("error", connection.failureReason)) }
        loop.logger.warning("upstream connect failed", fields)
        connection.close()
        upstream = nil
        connectNextServer()   // nothing was sent: any method may go to the next server
    }

    func upstreamDeadlinePassed(_ connection: UpstreamConnection) {
        upstreamFailed(connection.server, connection.isConnecting ? .connectTimeout : .readTimeout)
        if connection.isConnecting {
            loop.logger.warning("upstream connect timed out", [("upstream.addr", connection.server.authority)])
            connection.close()
            upstream = nil
            if let group = forward.group, group.pick(now: loop.now, tried: forward.triedServers) != nil, forward.attempts < group.servers.count {
                connectNextServer()
            } else {
                failRequest(.upstreamTimeout, reason: "upstream_connect_timeout")
            }
            return
        }
        failRequest(.upstreamTimeout, reason: "upstream_timeout")
    }

    /// The server took none of the pending request bytes for the upstream's `send_timeout`.
    func upstreamSendTimedOut(_ connection: UpstreamConnection) {
        upstreamFailed(connection.server, .sendTimeout)
        failRequest(.upstreamTimeout, reason: "upstream_send_timeout")
    }

    func upstreamWritable(_ connection: UpstreamConnection) {
        guard connection.flush() else { return upstreamBroken(connection) }
        if phase == .tunnel {
            if connection.output.isEmpty && readable { pumpTunnelFromClient() }
            return
        }
        if connection.output.readableCount < Self.highWater && forward.body.isActive { pumpRequestBody() }
    }

    /// The connection failed before a response arrived (write error, reset, early close).
    func upstreamBroken(_ connection: UpstreamConnection) {
        let staleReuse = connection.wasReused && forward.relay.stage == .awaitingHead && connection.input.isEmpty
        connection.close()
        if upstream === connection { upstream = nil }
        if forward.responseStarted { return abort() }
        if staleReuse && request.method.isIdempotent && !forward.body.sentAny, let group = forward.group, forward.attempts <= group.servers.count {
            // The keep-alive race: the server closed an idle connection as we reused it.
            if connection.server.index < 64 { forward.triedServers &= ~(1 << UInt64(connection.server.index)) }
            connectNextServer()
            return
        }
        upstreamFailed(connection.server, .reset)
        failRequest(.upstreamUnavailable, reason: "upstream_reset")
    }

    /// A server failed this request: it counts towards the server's ejection (passive health)
    /// and in the upstream-error metrics.
    private func upstreamFailed(_ server: UpstreamServer, _ kind: UpstreamErrorKind) {
        let ejected = server.recordFailure(now: loop.now)
        if let group = forward.group { loop.metrics.upstreamFailed(upstream: group.metricSlot, kind: kind, ejected: ejected) }
    }

    /// Answers the current request with an error instead of the upstream's response.
    func failRequest(_ error: GatewayError, reason: String) {
        request.logReason = reason
        if let upstream { upstream.close(); self.upstream = nil }
        if forward.responseStarted { return abort() }
        let close = forward.body.isActive || !request.keepAlive
        ResponseWriter.appendError(
            error, requestID: request.id, close: close, http10KeepAlive: request.clientMinorVersion == 0, date: loop.dateHeader(), to: output)
        finishRequest(status: error.status, decision: .error, upstreamText: "", close: close)
    }

    // MARK: Request body

    /// Moves request-body bytes from the client to the upstream until one side blocks.
    ///
    /// Timers: once the upstream connection is up, while the gateway waits for the client's
    /// body bytes, `body_timeout` runs on the client connection (re-armed by each read; the
    /// connect has its own timeout before) and the upstream's `read_timeout` does not:
    /// the server waits for the client too, so a stalled client is never counted against it.
    /// While the server does not take the body, its `send_timeout` runs instead. Once the body
    /// is complete, `read_timeout` runs until the response head.
    func pumpRequestBody() {
        guard let connection = upstream, !connection.isConnecting else { return }
        pumping: while forward.body.isActive {
            if connection.output.readableCount >= Self.highWater {
                guard connection.flush() else { return upstreamBroken(connection) }
                if connection.output.readableCount >= Self.highWater {
                    deadline = 0   // waiting for the server, not the client
                    return
                }
            }
            if forward.body.wantsInput(available: input.readableCount) {
                guard readable else { break }
                switch readAvailable(into: input) {
                case .progress: armBodyTimeout()
                case .blocked: break
                case .ended, .failed:
                    clientEnded = true
                    return clientAborted()
                }
                if forward.body.wantsInput(available: input.readableCount) { break }
            }
            switch forward.body.step(from: input, to: connection.output) {
            case .progress, .needInput: continue
            case .finished: break pumping
            case .fail(let error, let reason): return failRequest(error, reason: reason)
            }
        }
        if forward.body.isActive {
            if deadline == 0 { armBodyTimeout() }
            connection.deadline = 0
        } else {
            deadline = 0
            // Until the response head; a response already streaming (an upstream that answers
            // before the upload ends) has no read timeout, as any response body.
            if forward.body.sentAny, forward.relay.stage == .awaitingHead, let group = forward.group {
                connection.deadline = loop.now + group.readTimeoutMilliseconds
            }
        }
        guard connection.flush() else { return upstreamBroken(connection) }
    }

    private func armBodyTimeout() {
        deadline = loop.now + runtime.config.limits.bodyTimeout.milliseconds
    }

    /// The client sent no byte of the request body it is forwarding for `body_timeout`: 408
    /// (or a reset once the response started); the upstream connection closes, unblamed.
    func requestBodyTimedOut() {
        failRequest(.requestTimeout, reason: "body_timeout")
    }

    // MARK: Response

    /// Reads from the upstream and relays to the client until a side blocks.
    func upstreamReadable(_ connection: UpstreamConnection) {
        if phase == .tunnel { return pumpTunnelFromUpstream() }
        while connection.readable && upstream === connection {
            if output.readableCount >= Self.highWater {
                guard flushOutput() else { return }
                if output.readableCount >= Self.highWater {
                    forward.upstreamPaused = true
                    return
                }
            }
            switch connection.readAvailable(into: connection.input) {
            case .progress:
                break
            case .blocked:
                continue
            case .ended:
                return upstreamEnded(connection)
            case .failed:
                return upstreamBroken(connection)
            }
            guard relayUpstreamInput(connection) else { return }
        }
        if upstream === connection { flushOutput() }
    }

    /// Relays what `connection.input` holds through the response state machine and carries
    /// out what it asks. - Returns: false when the response finished or the request failed
    /// (the connection is no longer ours).
    private func relayUpstreamInput(_ connection: UpstreamConnection) -> Bool {
        let request = ResponseRelay.Request(
            method: request.method, clientMinorVersion: request.clientMinorVersion, keepAlive: request.keepAlive, wantsUpgrade: forward.wantsUpgrade)
        while true {
            let action = forward.relay.step(
                connection.input, head: &connection.head, parser: &connection.parser, request: request, draining: loop.isDraining,
                extraHeaders: accessState.rateLimitHeaders, builder: &loop.responseHeadBuilder, output: output)
            switch action {
            case .needMore:
                return true
            case .headWritten:
                connection.deadline = 0   // read_timeout ends at the final head
                forward.responseStatus = forward.relay.status
                forward.responseStarted = true
            case .tunnel:
                startTunnel(connection)
                return false
            case .complete(let reusable):
                completeResponse(connection, reusable: reusable)
                return false
            case .fail(let error, let reason, let upstreamAtFault):
                if upstreamAtFault { upstreamFailed(connection.server, .invalidResponse) }
                failRequest(error, reason: reason)
                return false
            case .abort:
                upstreamFailed(connection.server, .aborted)
                abort()
                return false
            }
        }
    }

    private func upstreamEnded(_ connection: UpstreamConnection) {
        switch forward.relay.upstreamEnded(output: output) {
        case .complete(let reusable): completeResponse(connection, reusable: reusable)
        case .fail: upstreamBroken(connection)   // no head yet: maybe a stale pooled connection, retried there
        default: abort()   // truncated: the client must not mistake it for a complete response
        }
    }

    private func completeResponse(_ connection: UpstreamConnection, reusable: Bool) {
        let requestDone = !forward.body.isActive
        // Reused only once the whole request went out: a response that ends before its body
        // was sent leaves the server reading the rest of that body, and the next request
        // written there would be read as body bytes (request smuggling), so the connection
        // closes, as nginx does.
        let requestSent = requestDone && connection.output.isEmpty
        let keep = reusable && requestSent && connection.head.upstreamKeepsAlive && connection.input.isEmpty
        connection.server.recordSuccess()
        if let group = forward.group {
            loop.metrics.upstreamResponded(upstream: group.metricSlot, microseconds: MonotonicClock.nowMicroseconds() - forward.startMicros)
        }
        upstream = nil
        let upstreamText = !loop.accessLog.isOn ? "" : connection.server.authority
        if keep { connection.release(idleTimeoutMilliseconds: 60_000) } else { connection.close() }
        finishRequest(status: forward.responseStatus, decision: .allow, upstreamText: upstreamText, close: forward.relay.closeAfter || !requestDone)
    }
}
