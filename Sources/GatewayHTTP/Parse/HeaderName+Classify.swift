extension HeaderName {
    /// Classifies the field name `bytes[start ..< start + count]` (ASCII case-insensitive).
    ///
    /// Dispatches on the first byte and the length, then compares bytes with case folding; no
    /// `String` is built. Any name whose first seven bytes are `x-auth-` with `-` or `_` in
    /// both separator positions is `.identity` (`X_Auth_User`, `x-AUTH_id`; not `X-Auth` or
    /// `X-Authority`).
    package static func classify(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> HeaderName {
        guard count > 0 else { return .other }
        switch bytes[start] | 0x20 {
        case 0x68:  // h
            if HTTPBytes.equalsLowercase(bytes, start, count, "host") { return .host }
            if HTTPBytes.equalsLowercase(bytes, start, count, "http2-settings") { return .http2Settings }
        case 0x63:  // c
            if HTTPBytes.equalsLowercase(bytes, start, count, "content-length") { return .contentLength }
            if HTTPBytes.equalsLowercase(bytes, start, count, "connection") { return .connection }
        case 0x74:  // t
            if HTTPBytes.equalsLowercase(bytes, start, count, "te") { return .te }
            if HTTPBytes.equalsLowercase(bytes, start, count, "transfer-encoding") { return .transferEncoding }
            if HTTPBytes.equalsLowercase(bytes, start, count, "trailer") { return .trailer }
        case 0x6B:  // k
            if HTTPBytes.equalsLowercase(bytes, start, count, "keep-alive") { return .keepAlive }
        case 0x70:  // p
            if HTTPBytes.equalsLowercase(bytes, start, count, "proxy-connection") { return .proxyConnection }
            if HTTPBytes.equalsLowercase(bytes, start, count, "proxy-authorization") { return .proxyAuthorization }
            if HTTPBytes.equalsLowercase(bytes, start, count, "proxy-authenticate") { return .proxyAuthenticate }
        case 0x75:  // u
            if HTTPBytes.equalsLowercase(bytes, start, count, "upgrade") { return .upgrade }
        case 0x65:  // e
            if HTTPBytes.equalsLowercase(bytes, start, count, "expect") { return .expect }
        case 0x61:  // a
            if HTTPBytes.equalsLowercase(bytes, start, count, "authorization") { return .authorization }
        case 0x78:  // x
            if isIdentity(bytes, start, count) { return .identity }
            if HTTPBytes.equalsLowercase(bytes, start, count, "x-forwarded-for") { return .xForwardedFor }
            if HTTPBytes.equalsLowercase(bytes, start, count, "x-forwarded-proto") { return .xForwardedProto }
            if HTTPBytes.equalsLowercase(bytes, start, count, "x-forwarded-host") { return .xForwardedHost }
            if HTTPBytes.equalsLowercase(bytes, start, count, "x-request-id") { return .xRequestId }
        default:
            break
        }
        return .other
    }

    /// `x[-_]auth[-_]` prefix, case-insensitive.
    @inline(__always)
    static func isIdentity(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> Bool {
        guard count >= 7 else { return false }
        let s1 = bytes[start &+ 1]
        let s6 = bytes[start &+ 6]
        guard s1 == 0x2D || s1 == 0x5F, s6 == 0x2D || s6 == 0x5F else { return false }
        return HTTPBytes.lowercased(bytes[start]) == 0x78
            && HTTPBytes.equalsLowercase(bytes, start &+ 2, 4, "auth")
    }
}
