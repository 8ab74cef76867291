import GatewayCore
import GatewayHTTP
import GatewaySupport
import GatewaySystem
import GatewayTLS

/// A small blocking HTTP/1.1 client for the gateway's own fetches (a JWKS, an OIDC discovery
/// document, a token introspection): one request per connection (`Connection: close`), a
/// body delimited by `Content-Length`, chunked coding or the end of the connection, only
/// status 200 accepted. HTTPS verifies the server's chain against the system CA store (so
/// `SSL_CERT_FILE` / `SSL_CERT_DIR` apply) and its name.
///
/// Blocking, for background threads only: name resolution and the connect are bounded by
/// `connectTimeout` (across every address the host resolves to), the TLS handshake, the
/// request and the whole response by `readTimeout`, and the body by `maxBodyBytes`.
/// Stateless apart from the shared TLS context, so `Sendable`.
struct BlockingHTTPClient: Sendable {
    /// The TLS context for `https` URLs; nil when the system CA store does not load (https
    /// requests then fail saying so).
    let tls: ClientTLS?

    init(tls: ClientTLS?) {
        self.tls = tls
    }

    /// A client trusting the system CA store.
    static func system() -> BlockingHTTPClient {
        BlockingHTTPClient(tls: try? ClientTLS(settings: ClientTLSSettings()))
    }

    /// This client, or one verifying with `tls` (a configured `ca`) when given.
    func trusting(_ tls: ClientTLS?) -> BlockingHTTPClient {
        tls.map { BlockingHTTPClient(tls: $0) } ?? self
    }

    /// Sends one request. - Parameters:
    ///   - headers: extra header lines, each ending in CRLF (never logged: may hold credentials).
    /// - Returns: the body of a 200 response, or why there is none (safe to log).
    func send(
        _ method: String, _ url: JWKSURL, headers: String = "", body: [UInt8] = [], limits: JWKSFetchLimits
    ) -> Result<[UInt8], JWKSFetchError> {
        let connectDeadline = MonotonicClock.nowMilliseconds() + limits.connectTimeout
        let addresses: [SocketAddress]
        switch SocketAddress.resolve(host: url.host, port: url.port, timeoutMilliseconds: limits.connectTimeout) {
        case .success(let resolved): addresses = resolved
        case .failure(let error): return .failure(JWKSFetchError(error.message))
        }
        let fd: Int32
        switch connect(addresses, deadline: connectDeadline) {
        case .success(let connected): fd = connected
        case .failure(let error): return .failure(error)
        }
        defer { Socket.close(fd) }
        var stream = BlockingStream(fd: fd, deadline: MonotonicClock.nowMilliseconds() + limits.readTimeout)
        if url.scheme == .https {
            guard let tls, let session = tls.session(fd: fd, serverName: url.host) else {
                return .failure(JWKSFetchError("TLS is not available"))
            }
            stream.tls = session
            if let error = stream.handshake() { return .failure(error) }
        }
        var request = Array((
            "\(method) \(url.target) HTTP/1.1\r\nHost: \(url.authority)\r\nUser-Agent: gateway\r\nConnection: close\r\n"
                + (body.isEmpty && method == "GET" ? "" : "Content-Length: \(body.count)\r\n") + headers + "\r\n").utf8)
        request += body
        if let error = stream.send(request) { return .failure(error) }
        return receive(from: &stream, maxBodyBytes: limits.maxBodyBytes)
    }

    /// Connects to the first address that accepts before `deadline`.
    private func connect(_ addresses: [SocketAddress], deadline: Int64) -> Result<Int32, JWKSFetchError> {
        var failure = JWKSFetchError("connect timed out")
        for address in addresses {
            let left = deadline - MonotonicClock.nowMilliseconds()
            guard left > 0 else { break }
            let fd: Int32
            do {
                fd = try Socket.connect(address)
            } catch {
                failure = JWKSFetchError("\(error) (\(address))")
                continue
            }
            switch Socket.wait(fd, writable: true, timeoutMilliseconds: left) {
            case .ready:
                let code = Socket.pendingError(fd)
                if code == 0 { return .success(fd) }
                failure = JWKSFetchError(SystemError("connect \(address)", code: code).description)
            case .timedOut:
                failure = JWKSFetchError("connect \(address) timed out")
            case .failed(let code):
                failure = JWKSFetchError(SystemError("connect \(address): poll", code: code).description)
            }
            Socket.close(fd)
        }
        return .failure(failure)
    }

    /// Reads the response until it is complete, the deadline passes, or it breaks a limit.
    private func receive(from stream: inout BlockingStream, maxBodyBytes: Int) -> Result<[UInt8], JWKSFetchError> {
        var collector = ResponseCollector(maxBodyBytes: maxBodyBytes)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count: Int
            switch stream.read(into: &chunk) {
            case .success(let n): count = n
            case .failure(let error): return .failure(error)
            }
            let step: ResponseCollector.Step
            do {
                if count == 0 {
                    step = try collector.endOfStream()
                } else {
                    step = try chunk.withUnsafeBytes { raw throws(ResponseCollectorError) in
                        try collector.append(UnsafeRawBufferPointer(rebasing: raw[0..<count]))
                    }
                }
            } catch {
                return .failure(JWKSFetchError("\(error)"))
            }
            switch step {
            case .complete(let status, let body):
                return status == 200 ? .success(body) : .failure(JWKSFetchError("status \(status)"))
            case .needMore:
                if let status = collector.status, status != 200 { return .failure(JWKSFetchError("status \(status)")) }
            }
        }
    }
}

/// A connected socket, with or without TLS, driven by blocking waits against one deadline.
private struct BlockingStream {
    let fd: Int32
    let deadline: Int64
    var tls: TLSSession? = nil

    init(fd: Int32, deadline: Int64) {
        self.fd = fd
        self.deadline = deadline
    }

    /// Completes the TLS handshake. - Returns: the failure (a verification error names why).
    func handshake() -> JWKSFetchError? {
        guard let tls else { return nil }
        while true {
            switch tls.handshake() {
            case .bytes: return nil
            case .wantRead: guard wait(writable: false) else { return JWKSFetchError("TLS handshake timed out") }
            case .wantWrite: guard wait(writable: true) else { return JWKSFetchError("TLS handshake timed out") }
            case .closed: return JWKSFetchError("TLS handshake: connection closed")
            case .failed: return JWKSFetchError("TLS handshake: " + tls.failureReason)
            }
        }
    }

    /// Writes all of `bytes`. - Returns: the failure, or nil.
    func send(_ bytes: [UInt8]) -> JWKSFetchError? {
        var sent = 0
        var code: Int32 = 0
        while sent < bytes.count {
            let step: TLSStep = bytes.withUnsafeBytes { raw in
                let rest = UnsafeRawBufferPointer(rebasing: raw[sent...])
                if let tls { return tls.write(rest) }
                switch Socket.write(fd, rest) {
                case .bytes(let n): return .bytes(n)
                case .wouldBlock: return .wantWrite
                case .failed(let errno): code = errno; return .failed
                }
            }
            switch step {
            case .bytes(let n): sent += n
            case .wantRead: guard wait(writable: false) else { return JWKSFetchError("request write timed out") }
            case .wantWrite: guard wait(writable: true) else { return JWKSFetchError("request write timed out") }
            case .closed: return JWKSFetchError("request write: connection closed")
            case .failed: return JWKSFetchError(failure("request write", code: code))
            }
        }
        return nil
    }

    /// Reads some bytes into `buffer`. - Returns: the count, 0 at the end of the stream.
    func read(into buffer: inout [UInt8]) -> Result<Int, JWKSFetchError> {
        var code: Int32 = 0
        while true {
            let step: TLSStep = buffer.withUnsafeMutableBytes { raw in
                if let tls { return tls.read(into: raw) }
                switch Socket.read(fd, into: raw) {
                case .bytes(let n): return .bytes(n)
                case .wouldBlock: return .wantRead
                case .end: return .closed
                case .failed(let errno): code = errno; return .failed
                }
            }
            switch step {
            case .bytes(let n): return .success(n)
            case .closed: return .success(0)
            case .wantRead: guard wait(writable: false) else { return .failure(JWKSFetchError("response timed out")) }
            case .wantWrite: guard wait(writable: true) else { return .failure(JWKSFetchError("response timed out")) }
            case .failed:
                return .failure(JWKSFetchError(failure("response read", code: code)))
            }
        }
    }

    /// Why a read or write failed: OpenSSL's reason through TLS, the socket's errno without.
    private func failure(_ operation: String, code: Int32) -> String {
        if let tls { return operation + ": " + tls.failureReason }
        return SystemError(operation, code: code).description
    }

    private func wait(writable: Bool) -> Bool {
        Socket.wait(fd, writable: writable, timeoutMilliseconds: deadline - MonotonicClock.nowMilliseconds()) == .ready
    }
}
