import GatewayCore
import GatewayHTTP
import GatewayStore
import GatewaySupport
import GatewaySystem

/// Requests the gateway answers itself from a small body it reads whole: the token service and
/// the admin API.
enum LocalBodyConsumer {
    case token, revoke, admin, register
}

/// What a request parked on the store (`StoreWorker`) needs to finish.
enum StoreWait {
    case clientCredentials(KeyRecord, scope: [String])
    case refresh
    case revoke
    case admin
}

extension ClientConnection {
    /// Reads the request's body (framed by `Content-Length`, at most `limit` bytes) whole into
    /// `input`, waiting in phase `collectingBody` (bounded by `head_timeout`) while it arrives;
    /// `Expect: 100-continue` is answered first. Then the consumer runs.
    func collectBody(for consumer: LocalBodyConsumer, limit: Int) {
        guard Int(head.contentLength ?? 0) <= limit else { return reject(.payloadTooLarge, reason: "body_too_large") }
        request.bodyConsumer = consumer
        continueCollectingBody()
    }

    /// More of the body may have arrived (phase `collectingBody`).
    func continueCollectingBody() {
        let needed = head.headLength + Int(head.contentLength ?? 0)
        while input.readableCount < needed && readable {
            switch readAvailable(into: input) {
            case .progress, .blocked: continue
            case .ended, .failed:
                clientEnded = true
                return close()
            }
        }
        guard input.readableCount >= needed else {
            if phase != .collectingBody && head.expectContinue {
                output.append(ResponseWriter.continueResponse)
                guard flushOutput() else { return }
            }
            phase = .collectingBody
            deadline = loop.now + runtime.config.limits.headTimeout.milliseconds
            return
        }
        phase = .waitingHead
        deadline = 0
        let body = Array(input.readableBytes[head.headLength..<needed])
        switch request.bodyConsumer {
        case .token: tokenBodyReceived(body, token: true)
        case .revoke: tokenBodyReceived(body, token: false)
        case .admin: adminBodyReceived(body)
        case .register: registrationBodyReceived(body)
        }
    }

    /// Hands `job` to the store worker and parks the request until its result (or 503 after
    /// `storeWaitMilliseconds`).
    func waitForStore(_ wait: StoreWait, job: StoreJob) {
        guard let ticket = loop.submitStoreJob(job, for: self) else { return answerStoreUnavailable(wait) }
        request.storeWait = wait
        request.storeTicket = ticket
        phase = .awaitingStore
        deadline = loop.now + Self.storeWaitMilliseconds
    }

    static let storeWaitMilliseconds: Int64 = 5_000

    /// The store answered the parked request.
    func storeJobFinished(_ result: StoreJobResult) {
        guard phase == .awaitingStore, let wait = request.storeWait else { return }
        phase = .waitingHead
        deadline = 0
        request.storeWait = nil
        if case .admin = wait { adminStoreJobFinished(result) } else { tokenStoreJobFinished(wait, result) }
        // Requests pipelined behind this one waited in `input`.
        if !isClosed { processInput() }
    }

    /// The store did not answer in time: 503, and the result is dropped when it comes.
    func storeWaitTimedOut() {
        guard let wait = request.storeWait else { return }
        loop.forgetStoreJob(request.storeTicket)
        request.storeWait = nil
        phase = .waitingHead
        answerStoreUnavailable(wait)
        if !isClosed { processInput() }
    }

    private func answerStoreUnavailable(_ wait: StoreWait) {
        if case .admin = wait { answerAdmin(AdminError.unavailable) } else { answerOAuthUnavailable() }
    }
}
