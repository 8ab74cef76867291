import GatewayCore
import GatewayHTTP

/// The request being answered, in one value: what its answer, its forwarded head and its
/// access-log line need. `ClientConnection.startRequest` replaces it for every request (a
/// request resumed after waiting for keys keeps its id, start and wait deadline); the
/// buffers' capacity passes from one request to the next.
struct CurrentRequest {
    /// `X-Request-Id`: a trusted proxy's, or a fresh one.
    var id: [UInt8] = []
    /// When the head's first byte arrived (monotonic ms).
    var start: Int64 = 0
    /// The same moment, precise (monotonic µs): the latency histograms.
    var startMicros: Int64 = 0
    var method = HTTPMethod.get
    /// The method the access log names: the request's own, or at the decision endpoint the
    /// method of the request it describes.
    var logMethod = HTTPMethod.get
    var clientMinorVersion = 1
    /// The connection may carry another request after this one.
    var keepAlive = true
    /// The access pipeline's result: the route and the identity.
    var access = AccessResult(verdict: .allow)
    /// Where this response begins in the connection's output: the access log's `bytes` is
    /// written + pending output - this mark.
    var responseStartMark = 0
    /// Why the request ended as it did (the access log's `reason`), empty when it was served.
    var logReason = ""
    /// The normalized path, kept for the access-log line (the loop's scratch is reused by
    /// other connections meanwhile). Filled only when logging is on.
    var loggedPath: [UInt8] = []
    /// While the request waits for keys (or was resumed after waiting): when the wait ends
    /// (monotonic ms); 0 otherwise.
    var keyWaitDeadline: Int64 = 0
    /// Who takes the body the gateway reads whole (token service, admin API).
    var bodyConsumer = LocalBodyConsumer.token
    /// A request parked on the store: what finishes it, and its ticket.
    var storeWait: StoreWait? = nil
    var storeTicket = 0

    /// A request resumed after waiting for keys, rather than a new one.
    var isResumed: Bool { keyWaitDeadline != 0 }

    /// Replaces this value with the next request's, read from `head`.
    /// - Parameter responseStartMark: the connection's byte count where the answer will begin.
    mutating func begin(_ head: RequestHead, keepAlive: Bool, responseStartMark: Int) {
        var next = CurrentRequest()
        next.start = start
        next.startMicros = startMicros
        next.method = head.method
        next.logMethod = head.method
        next.clientMinorVersion = head.minorVersion
        next.keepAlive = keepAlive
        next.responseStartMark = responseStartMark
        swap(&next.loggedPath, &loggedPath)
        next.loggedPath.removeAll(keepingCapacity: true)
        swap(&next.id, &id)
        if isResumed {
            next.keyWaitDeadline = keyWaitDeadline
        } else {
            next.id.removeAll(keepingCapacity: true)
        }
        self = next
    }
}
