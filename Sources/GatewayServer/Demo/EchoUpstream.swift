private import Glibc
import GatewaySupport
package import GatewaySystem

/// The demo's built-in upstream: answers every request with a JSON echo of what it received
/// (method, path, headers), so `gateway demo` shows what the gateway forwards. One thread per
/// connection, blocking I/O: a teaching aid, never on the gateway's request path.
package enum EchoUpstream {
    /// Binds `127.0.0.1:0` and serves forever on background threads.
    /// - Returns: the bound port.
    package static func start() throws(SystemError) -> UInt16 {
        let listener = try Socket.listen(SocketAddress(address: [127, 0, 0, 1], port: 0), reusePort: false)
        let port = Socket.localAddress(listener)?.port ?? 0
        // Accept blocking on this dedicated thread.
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) & ~O_NONBLOCK)
        _ = OSThread.start {
            while true {
                let fd = accept(listener, nil, nil)
                if fd < 0 { continue }
                _ = OSThread.start { serve(fd) }
            }
        }
        return port
    }

    private static func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            // Read one head.
            var headEnd: Int? = nil
            while headEnd == nil {
                if let end = find(buffer, Array("\r\n\r\n".utf8)) { headEnd = end + 4; break }
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
                if buffer.count > 64 * 1024 { return }
            }
            let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
            buffer.removeFirst(headEnd!)
            var lines = head.split(separator: "\r\n", omittingEmptySubsequences: true).map(String.init)
            guard !lines.isEmpty else { return }
            let requestLine = lines.removeFirst().split(separator: " ").map(String.init)
            var length = 0
            var body = "{\"method\":"
            JSON.appendString(requestLine.first ?? "", to: &body)
            body += ",\"path\":"
            JSON.appendString(requestLine.count > 1 ? requestLine[1] : "", to: &body)
            body += ",\"headers\":{"
            for (i, line) in lines.enumerated() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = String(line[..<colon])
                let value = line[line.index(after: colon)...].trimmingPrefix(" ")
                if name.lowercased() == "content-length" { length = Int(value) ?? 0 }
                if i > 0 { body += "," }
                JSON.appendString(name, to: &body)
                body += ":"
                JSON.appendString(String(value), to: &body)
            }
            body += "}}\n"
            // Discard the request body.
            while buffer.count < length {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
            }
            buffer.removeFirst(min(length, buffer.count))
            let response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            var bytes = Array(response.utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes.withUnsafeMutableBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }
                sent += n
            }
        }
    }

    private static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<i + needle.count].elementsEqual(needle) { return i }
        return nil
    }
}
