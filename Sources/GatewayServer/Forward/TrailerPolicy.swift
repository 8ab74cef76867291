import GatewayHTTP

/// Which request trailers may be forwarded (SPEC §8): never identity, hop-by-hop or framing.
package enum TrailerPolicy {
    private static let forbidden: [String] = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te", "trailer",
        "upgrade", "expect", "authorization", "proxy-authorization", "cookie", "x-forwarded-for", "x-forwarded-proto",
        "x-forwarded-host", "x-request-id", "content-type", "content-encoding", "content-range", "forwarded",
        "x-real-ip", "x-client-ip", "x-forwarded-port", "x-forwarded-prefix", "x-original-url", "x-rewrite-url",
    ]

    /// - Parameter credentialHeader: the API-key header's name, lower-case (empty: none).
    package static func mayForward(_ name: [UInt8], credentialHeader: [UInt8] = []) -> Bool {
        if !credentialHeader.isEmpty && name.count == credentialHeader.count
            && zip(name, credentialHeader).allSatisfy({ HTTPBytes.lowercased($0) == $1 }) { return false }
        let lower = name.map { HTTPBytes.lowercased($0) == UInt8(ascii: "_") ? UInt8(ascii: "-") : HTTPBytes.lowercased($0) }
        if lower.starts(with: Array("x-auth-".utf8)) { return false }
        let text = String(decoding: lower, as: UTF8.self)
        return !forbidden.contains(text)
    }
}
