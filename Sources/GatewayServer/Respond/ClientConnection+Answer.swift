import GatewayCore
import GatewayHTTP
import GatewaySupport

extension ClientConnection {
    /// Answers the request with the error of an access refusal.
    func refuse(_ reason: DenyReason) {
        reject(reason.error, reason: reason.reason)
    }

    /// Answers the request with a gateway error (SPEC §12); see `answer`.
    /// - Parameters:
    ///   - status: answered instead of the error's own (the decision endpoint's nginx-mode 403).
    ///   - extraHeaders: lines added before the rate-limit lines.
    ///   - aboutThisRequest: false when a 400 concerns a request the head only describes (the
    ///     decision endpoint), so this connection's framing is not in doubt.
    func reject(
        _ error: GatewayError, reason: String, status: Int? = nil, extraHeaders: [UInt8] = [], aboutThisRequest: Bool = true
    ) {
        // A malformed request closes the connection: nothing after it can be trusted to be framed
        // as the client meant (SPEC §14).
        let malformed = aboutThisRequest && error == .invalidRequest
        answer(.error(error, status: status), reason: reason, extraHeaders: extraHeaders, close: malformed)
    }

    /// The one way a request is answered by the gateway itself instead of being forwarded:
    /// the head (and a body already received in full) is consumed, the answer written with the
    /// rate-limit lines, the access log written, and the connection kept or closed.
    /// - Parameter close: close after the answer even if the connection could carry more.
    func answer(_ local: LocalAnswer, reason: String, extraHeaders: [UInt8] = [], close: Bool = false) {
        request.logReason = reason
        request.keyWaitDeadline = 0
        let consumed = consumeRequestForLocalAnswer()
        let lingerOnClose = !consumed || close   // the body is still coming, or the framing is in doubt
        let close = lingerOnClose || !request.keepAlive
        let headers = extraHeaders.isEmpty ? accessState.rateLimitHeaders : extraHeaders + accessState.rateLimitHeaders
        let status: Int
        switch local {
        case .error(let error, let override):
            status = override ?? error.status
            ResponseWriter.appendError(
                error, requestID: request.id, close: close, http10KeepAlive: request.clientMinorVersion == 0, date: loop.dateHeader(),
                status: override, extraHeaders: headers,
                headOnly: request.method == .head, resourceChallenge: request.access.route?.resourceChallenge ?? [], to: output)
        case .response(let code, let contentType, let body):
            status = code
            ResponseWriter.appendResponse(
                status: code, contentType: contentType, body: body, requestID: request.id, close: close,
                http10KeepAlive: request.clientMinorVersion == 0, date: loop.dateHeader(), extraHeaders: headers,
                headOnly: request.method == .head, to: output)
        }
        writeAccessLog(status: status, decision: status < 400 ? .allow : .deny, upstream: "")
        head.reset()
        if close { closeWhenFlushed(linger: lingerOnClose) }
    }

    /// Drops the head, and the body when it is already here in full.
    /// - Returns: whether the whole request was consumed (false: a body still to come).
    private func consumeRequestForLocalAnswer() -> Bool {
        input.consume(head.headLength)
        parser.reset()
        awaitingFirstHeadByte = true
        if head.isChunked { return false }
        if let length = head.contentLength, length > 0 {
            guard Int64(input.readableCount) >= length else { return false }
            input.consume(Int(length))
        }
        return true
    }

    /// Answers a parse error or timeout that has no request context, then closes.
    func respondError(_ error: GatewayError, close: Bool) {
        if phase == .waitingHead {
            // No request was read: log no path, no earlier request's method or rate limit.
            let reason = request.logReason
            request.begin(head, keepAlive: false, responseStartMark: bytesWritten + output.readableCount)
            request.logReason = reason
            accessState.rateLimitHeaders.removeAll(keepingCapacity: true)
        }
        if request.id.isEmpty || phase == .waitingHead {
            request.id.removeAll(keepingCapacity: true)
            loop.shared.requestIDs.appendNext(to: &request.id)
        }
        ResponseWriter.appendError(
            error, requestID: request.id, close: close, date: loop.dateHeader(), extraHeaders: accessState.rateLimitHeaders, to: output)
        writeAccessLog(status: error.status, decision: .deny, upstream: "")
        closeWhenFlushed()
    }

    /// The response to the current request is complete: log it and move on to the next one.
    func finishRequest(status: Int, decision: RequestDecision, upstreamText: String, close: Bool) {
        let bodyUnread = forward.body.isActive
        writeAccessLog(status: status, decision: decision, upstream: upstreamText)
        head.reset()
        parser.reset()
        awaitingFirstHeadByte = true
        forward = Forwarding()
        request.access = AccessResult(verdict: .allow)
        if close || !request.keepAlive {
            closeWhenFlushed(linger: bodyUnread)
            return
        }
        phase = .waitingHead
        processInput()
    }

    /// The request ended: count it (metrics) and write its access-log line.
    func writeAccessLog(status: Int, decision: RequestDecision, upstream: String) {
        if runtime.config.metrics {
            let route = metricRoute
            loop.metrics.requestFinished(
                route: route, status: status, decision: decision, microseconds: MonotonicClock.nowMicroseconds() - request.startMicros)
            if status == 429 && request.logReason == DenyReason.rateLimited(retryAfter: 0).reason { loop.metrics.rateLimited.add(route) }
        }
        if status == 401 || request.logReason == DenyReason.authFailuresExceeded(retryAfter: 0).reason {
            loop.noteAuthFailure(reason: request.logReason, client: peerText)
        }
        guard loop.accessLog.isOn else { return }
        loop.accessLog.record(AccessLogEntry(
            requestID: String(decoding: request.id, as: UTF8.self),
            client: String(decoding: peerText, as: UTF8.self),
            method: request.logMethod.name,
            path: String(decoding: request.loggedPath, as: UTF8.self),
            route: request.access.route?.pattern ?? "",
            status: status, decision: decision.name, reason: request.logReason,
            principal: request.access.identity?.userID ?? "", keyID: request.access.identity?.keyID ?? "", upstream: upstream,
            bytes: bytesWritten + output.readableCount - request.responseStartMark, durationMilliseconds: loop.now - request.start))
    }

    /// The request's route label slot: its route's pattern, `admin` on the admin listener,
    /// `unmatched` when no route matched.
    private var metricRoute: Int {
        if isAdmin { return loop.shared.metrics.adminRoute }
        guard let index = request.access.route?.index, index >= 0, index < runtime.routeMetricSlots.count else {
            return loop.shared.metrics.unmatchedRoute
        }
        return runtime.routeMetricSlots[index]
    }
}

/// What the gateway answers itself (`ClientConnection.answer`).
enum LocalAnswer {
    /// A gateway error (SPEC §12); `status` replaces the error's own (nginx-mode decisions).
    case error(GatewayError, status: Int?)
    /// A fixed response: a `respond` route, `/healthz`, an allowed decision.
    case response(status: Int, contentType: StaticString, body: [UInt8])
}
