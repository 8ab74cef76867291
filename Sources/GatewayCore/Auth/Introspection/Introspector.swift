import GatewayCrypto
import GatewaySupport
package import GatewayTLS
import Dispatch
import Synchronization

/// Token introspection (RFC 7662) for the request path: a bounded cache of answers keyed by
/// the token's SHA-256 (the token itself is kept only while its request to the endpoint is
/// pending), and the queue of tokens the background worker sends to the endpoint.
///
/// The event loops never wait on the network: a token without an answer is queued (once,
/// however many requests present it) and the request waits like one waiting for JWKS keys,
/// retried when the worker reports. Active answers are reused for `cache`, never past the
/// token's `exp`; `active: false` for `negative_cache`; an endpoint failure for a moment, so a
/// burst of requests does not become a burst of calls to a failing endpoint.
package final class Introspector: Sendable {
    package let config: IntrospectionConfig

    /// What the cache knows about a token.
    package enum Answer: Sendable, Equatable {
        case active(Identity)
        case inactive
        /// The endpoint could not be asked or answered badly: 503, the token may be fine.
        case unavailable
    }

    /// A lookup's result for the pipeline.
    package enum Lookup: Equatable {
        case answered(Answer)
        /// Queued (or already queued): wait for the worker.
        case pending
        /// The queue is full, or holds as many tokens of this client as it may: answered as
        /// unavailable without waiting.
        case overloaded
    }

    private struct Entry {
        var answer: Answer
        var until: Int64
    }

    private struct Job {
        var token: [UInt8]
        /// The address of the client that queued it (`ClientAddress.forLimits`).
        var client: [UInt8]
    }

    private struct State {
        var cache: [TokenHash: Entry] = [:]
        var pending: [TokenHash: Job] = [:]
        var order: [TokenHash] = []
        var pendingPerClient: [[UInt8]: Int] = [:]
    }

    /// Cached answers kept at most (beyond, expired ones go, then the whole cache).
    static let maxEntries = 100_000
    /// Tokens waiting for the endpoint at most; beyond, requests get 503 at once.
    static let maxPending = 1_024
    /// Tokens of one client address waiting at most. Without it, one address sending new
    /// random tokens fills the queue faster than the failure gate (which counts answers) can
    /// lock it out, and every other user's new token waits behind them, then gets 503.
    static let maxPendingPerClient = 8
    /// How long an endpoint failure is remembered (seconds).
    static let failureTTL: Int64 = 2

    private let state = Mutex(State())
    private let tlsContext = Mutex<ClientTLS?>(nil)

    /// What the request to an `https` endpoint verifies with (the block's `ca`); nil: the
    /// system store. Set at every load, so a reused introspector takes a reloaded file.
    package var tls: ClientTLS? {
        get { tlsContext.withLock { $0 } }
        set { tlsContext.withLock { $0 = newValue } }
    }
    private let work = Atomic<Int>(0)
    /// Signalled once per queued token: the worker sleeps on it.
    private let queued = DispatchSemaphore(value: 0)

    package init(config: IntrospectionConfig) {
        self.config = config
    }

    /// The cached answer for `token` (whose hash is `hash`), or queues it for the worker on
    /// behalf of `client` (its address as the failure gate counts it).
    package func lookup(_ token: UnsafeRawBufferPointer, hash: TokenHash, client: [UInt8], now: Int64) -> Lookup {
        state.withLock { state in
            if let entry = state.cache[hash] {
                if now < entry.until { return .answered(entry.answer) }
                state.cache[hash] = nil
            }
            if state.pending[hash] != nil { return .pending }
            guard state.pending.count < Self.maxPending,
                  state.pendingPerClient[client, default: 0] < Self.maxPendingPerClient
            else { return .overloaded }
            state.pending[hash] = Job(token: Array(token), client: client)
            state.pendingPerClient[client, default: 0] += 1
            state.order.append(hash)
            work.add(1, ordering: .releasing)
            queued.signal()
            return .pending
        }
    }

    /// The answer cached for `hash` without queueing (tests).
    package func cached(_ hash: TokenHash, now: Int64) -> Answer? {
        state.withLock { state in state.cache[hash].flatMap { now < $0.until ? $0.answer : nil } }
    }

    /// Waits up to `milliseconds` for a queued token. - Returns: whether one may be waiting.
    package func waitForWork(milliseconds: Int) -> Bool {
        if work.load(ordering: .acquiring) > 0 { return true }
        return queued.wait(timeout: .now() + .milliseconds(milliseconds)) == .success
    }

    /// The next token to send to the endpoint (the worker's), oldest first.
    package func takeJob() -> (hash: TokenHash, token: [UInt8])? {
        state.withLock { state in
            while !state.order.isEmpty {
                let hash = state.order.removeFirst()
                if let job = state.pending[hash] {
                    work.subtract(1, ordering: .relaxed)
                    return (hash, job.token)
                }
            }
            return nil
        }
    }

    /// Records the endpoint's answer to a job: the response body of a 200, or why there is none.
    /// - Returns: the answer (for the worker's log).
    @discardableResult
    package func finish(_ hash: TokenHash, response: Result<[UInt8], JWKSFetchError>, now: Int64) -> Answer {
        let (answer, until): (Answer, Int64)
        switch response {
        case .success(let body):
            switch IntrospectionResponse.read(body, config: config, now: now) {
            case .active(let identity):
                var lifetime = now + Int64(config.cacheTTL.components.seconds)
                if let exp = identity.expiresAt { lifetime = min(lifetime, exp) }
                (answer, until) = (.active(identity), lifetime)
            case .inactive:
                (answer, until) = (.inactive, now + Int64(config.negativeTTL.components.seconds))
            case .malformed:
                (answer, until) = (.unavailable, now + Self.failureTTL)
            }
        case .failure:
            (answer, until) = (.unavailable, now + Self.failureTTL)
        }
        state.withLock { state in
            if let job = state.pending.removeValue(forKey: hash) {
                let left = state.pendingPerClient[job.client, default: 1] - 1
                state.pendingPerClient[job.client] = left > 0 ? left : nil
            }
            if state.cache.count >= Self.maxEntries {
                state.cache = state.cache.filter { now < $0.value.until }
                if state.cache.count >= Self.maxEntries { state.cache.removeAll() }
            }
            if until > now { state.cache[hash] = Entry(answer: answer, until: until) }
        }
        return answer
    }

    /// The form body of a request for `token` (RFC 7662 §2.1): the token percent-encoded.
    package static func requestBody(for token: [UInt8]) -> [UInt8] {
        Array("token=".utf8) + formEncoded(token) + Array("&token_type_hint=access_token".utf8)
    }

    /// `Authorization: Basic …` for the gateway's client credentials (RFC 6749 §2.3.1: each
    /// part form-encoded first).
    package var authorizationHeader: String {
        let id = Self.formEncoded(Array(config.clientID.utf8))
        let secret = config.clientSecret.reveal { Self.formEncoded($0) }
        return "Authorization: Basic " + Base64URL.standardEncode(id + [UInt8(ascii: ":")] + secret) + "\r\n"
    }

    /// `application/x-www-form-urlencoded` bytes: unreserved characters as they are, every
    /// other byte as `%XX` (so `+`, `&`, `=` and spaces never change the meaning).
    static func formEncoded(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        encoded.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.append(byte)
            default:
                encoded += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return encoded
    }
}
