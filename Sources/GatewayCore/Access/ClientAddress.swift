import GatewayHTTP

/// The address per-address limits count against (`auth_failure_limit`, anonymous rate limits).
package enum ClientAddress {
    /// The peer, or behind a trusted proxy the rightmost `X-Forwarded-For` hop that is not
    /// itself trusted (an unparsable hop counts as untrusted, by its text). IPv6 addresses count
    /// per /64: a host gets a whole /64, so single addresses would cost an attacker nothing;
    /// IPv4-mapped ones count as their IPv4 address.
    ///
    /// Scanned as bytes from the right; a `String` is built only for a hop that must be parsed.
    package static func forLimits(_ request: AccessRequest, trustProxies: [CIDR]) -> [UInt8] {
        var address = request.peerAddress
        if request.peerTrusted {
            let bytes = request.bytes
            search: for field in request.headers.reversed() where field.name == .xForwardedFor {
                var end = field.valueStart + field.valueCount
                while end > field.valueStart {
                    var start = end
                    while start > field.valueStart, bytes[start - 1] != UInt8(ascii: ",") { start -= 1 }
                    let hopEnd = end
                    end = start - 1
                    var (s, e) = (start, hopEnd)
                    while s < e, HTTPBytes.isOWS(bytes[s]) { s += 1 }
                    while e > s, HTTPBytes.isOWS(bytes[e - 1]) { e -= 1 }
                    guard s < e else { continue }
                    let text = String(decoding: bytes[s..<e], as: UTF8.self)
                    guard let hop = ConfigValue.ipAddress(text[...]) else {
                        address = Array(text.utf8)
                        break search
                    }
                    if !trustProxies.contains(where: { $0.contains(hop) }) {
                        address = hop
                        break search
                    }
                }
            }
        }
        if address.count == 16 {
            // An IPv4-mapped address (`::ffff:a.b.c.d`, from a dual-stack socket or proxy) is
            // that IPv4 host: grouped per /64 it would share the all-zero prefix with every
            // other IPv4 client.
            if address[0..<10].allSatisfy({ $0 == 0 }) && address[10] == 0xFF && address[11] == 0xFF {
                address.removeFirst(12)
            } else {
                address.removeLast(8)
            }
        }
        return address
    }
}
