import GatewayCore
import GatewayHTTP
import GatewaySupport
import GatewaySystem

/// Fetches a JWKS over plain HTTP/1.1: `GET` with `Host` and `Connection: close`, a body
/// delimited by `Content-Length`, chunked coding or the end of the connection, only status 200.
///
/// Blocking, for the fetcher thread only: the connect is bounded by `connectTimeout` (across
/// every address the host resolves to), the request and the whole response by `readTimeout`,
/// and the body by `maxBodyBytes`. Name resolution uses the system resolver on this thread.
/// Stateless, so `Sendable`.
struct HTTPJWKSTransport: JWKSTransport {
    func fetch(_ url: JWKSURL, limits: JWKSFetchLimits) -> Result<[UInt8], JWKSFetchError> {
        let addresses: [SocketAddress]
        switch SocketAddress.resolve(host: url.host, port: url.port) {
        case .success(let resolved): addresses = resolved
        case .failure(let error): return .failure(JWKSFetchError(error.message))
        }
        let fd: Int32
        switch connect(addresses, timeout: limits.connectTimeout) {
        case .success(let connected): fd = connected
        case .failure(let error): return .failure(error)
        }
        defer { Socket.close(fd) }
        let deadline = MonotonicClock.nowMilliseconds() + limits.readTimeout
        let request = Array((
            "GET \(url.target) HTTP/1.1\r\nHost: \(url.authority)\r\n"
                + "Accept: application/jwk-set+json, application/json\r\nUser-Agent: gateway\r\nConnection: close\r\n\r\n").utf8)
        if let error = send(request, to: fd, deadline: deadline) { return .failure(error) }
        return receive(from: fd, deadline: deadline, maxBodyBytes: limits.maxBodyBytes)
    }

    /// Connects to the first address that accepts within the shared connect budget.
    private func connect(_ addresses: [SocketAddress], timeout: Int64) -> Result<Int32, JWKSFetchError> {
        let deadline = MonotonicClock.nowMilliseconds() + timeout
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

    /// Writes the whole request before `deadline`. - Returns: the failure, or nil.
    private func send(_ request: [UInt8], to fd: Int32, deadline: Int64) -> JWKSFetchError? {
        var sent = 0
        while sent < request.count {
            let result = request.withUnsafeBytes { Socket.write(fd, UnsafeRawBufferPointer(rebasing: $0[sent...])) }
            switch result {
            case .bytes(let count):
                sent += count
            case .wouldBlock:
                guard wait(fd, writable: true, until: deadline) else { return JWKSFetchError("request write timed out") }
            case .failed(let code):
                return JWKSFetchError(SystemError("request write", code: code).description)
            }
        }
        return nil
    }

    /// Reads the response until it is complete, the deadline passes, or it breaks a limit.
    private func receive(from fd: Int32, deadline: Int64, maxBodyBytes: Int) -> Result<[UInt8], JWKSFetchError> {
        var collector = ResponseCollector(maxBodyBytes: maxBodyBytes)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let read = chunk.withUnsafeMutableBytes { Socket.read(fd, into: $0) }
            let step: ResponseCollector.Step
            do {
                switch read {
                case .bytes(let count):
                    step = try chunk.withUnsafeBytes { raw throws(ResponseCollectorError) in
                        try collector.append(UnsafeRawBufferPointer(rebasing: raw[0..<count]))
                    }
                case .end:
                    step = try collector.endOfStream()
                case .wouldBlock:
                    guard wait(fd, writable: false, until: deadline) else { return .failure(JWKSFetchError("response timed out")) }
                    continue
                case .failed(let code):
                    return .failure(JWKSFetchError(SystemError("response read", code: code).description))
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

    private func wait(_ fd: Int32, writable: Bool, until deadline: Int64) -> Bool {
        Socket.wait(fd, writable: writable, timeoutMilliseconds: deadline - MonotonicClock.nowMilliseconds()) == .ready
    }
}
