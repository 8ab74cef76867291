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
        case 0x66:  // f
            if HTTPBytes.equalsLowercase(bytes, start, count, "forwarded") { return .forwarded }
        case 0x78:  // x
            if isIdentity(bytes, start, count) { return .identity }
            return classifyX(bytes, start, count)
        default:
            break
        }
        return .other
    }

    /// Names starting with `x` other than identity ones. Proxy headers match with `_` read as
    /// `-` (`X_Real_IP`): a CGI/WSGI upstream reads both spellings as one variable.
    private static func classifyX(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> HeaderName {
        switch count {
        case 9:
            if equalsFolded(bytes, start, count, "x-real-ip") { return .forwardingHint }
        case 11:
            if equalsFolded(bytes, start, count, "x-client-ip") { return .forwardingHint }
        case 12:
            if equalsFolded(bytes, start, count, "x-request-id") { return .xRequestId }
        case 14:
            if equalsFolded(bytes, start, count, "x-original-url") { return .forwardingHint }
        case 13:
            if equalsFolded(bytes, start, count, "x-rewrite-url") { return .forwardingHint }
        case 15:
            if equalsFolded(bytes, start, count, "x-forwarded-for") { return .xForwardedFor }
        case 16:
            if equalsFolded(bytes, start, count, "x-forwarded-host") { return .xForwardedHost }
            if equalsFolded(bytes, start, count, "x-forwarded-port") { return .forwardingHint }
        case 17:
            if equalsFolded(bytes, start, count, "x-forwarded-proto") { return .xForwardedProto }
        case 18:
            if equalsFolded(bytes, start, count, "x-forwarded-prefix") { return .forwardingHint }
        default:
            break
        }
        return .other
    }

    /// `literal` (lowercase ASCII) under case folding, where a `-` of the literal also matches `_`.
    @inline(__always)
    static func equalsFolded(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int, _ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let expected = literal.utf8Start
        var i = 0
        while i < count {
            let byte = bytes[start &+ i]
            let want = expected[i]
            if !(HTTPBytes.lowercased(byte) == want || (want == 0x2D && byte == 0x5F)) { return false }
            i &+= 1
        }
        return true
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
