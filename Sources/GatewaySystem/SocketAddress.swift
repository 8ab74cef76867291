internal import Glibc

/// A resolved IPv4/IPv6 socket address. Only numeric addresses and `localhost` are accepted:
/// the gateway never does DNS on its own (upstreams are addresses, SPEC §3).
package struct SocketAddress: Sendable, Equatable, CustomStringConvertible {
    /// 4 or 16 address bytes, network order.
    package var address: [UInt8]
    package var port: UInt16

    package init(address: [UInt8], port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Parses `host` (IPv4 dotted quad, IPv6 text without brackets, or `localhost`).
    package init?(host: String, port: UInt16) {
        let name = host == "localhost" ? "127.0.0.1" : host
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 {
            self.address = withUnsafeBytes(of: &v4) { Array($0) }
        } else {
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, name, &v6) == 1 else { return nil }
            self.address = withUnsafeBytes(of: &v6) { Array($0) }
        }
        self.port = port
    }

    package var isIPv6: Bool { address.count == 16 }

    /// The address alone, as text (`127.0.0.1`, `::1`): what `X-Forwarded-For` carries.
    package var hostText: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = isIPv6 ? AF_INET6 : AF_INET
        address.withUnsafeBytes { raw in
            _ = inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    package var description: String { isIPv6 ? "[\(hostText)]:\(port)" : "\(hostText):\(port)" }

    /// Calls `body` with a `sockaddr` for this address.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        if isIPv6 {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sa.sin6_addr) { $0.copyBytes(from: address) }
            return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &sa.sin_addr) { $0.copyBytes(from: address) }
            return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
    }

    /// Decodes a `sockaddr_storage` filled by `accept`/`getsockname`.
    package init?(storage: UnsafeRawPointer) {
        let family = storage.load(as: sockaddr.self).sa_family
        if family == sa_family_t(AF_INET) {
            let sa = storage.load(as: sockaddr_in.self)
            var a = sa.sin_addr
            self.address = withUnsafeBytes(of: &a) { Array($0) }
            self.port = UInt16(bigEndian: sa.sin_port)
        } else if family == sa_family_t(AF_INET6) {
            let sa = storage.load(as: sockaddr_in6.self)
            var a = sa.sin6_addr
            self.address = withUnsafeBytes(of: &a) { Array($0) }
            self.port = UInt16(bigEndian: sa.sin6_port)
        } else {
            return nil
        }
    }
}
