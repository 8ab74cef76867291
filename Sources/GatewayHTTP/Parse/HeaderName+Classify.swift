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

    /// Names starting with `x` other than identity ones. The proxy headers are also matched
    /// with `_` read as `-` (`X_Real_IP`), because a CGI/WSGI upstream reads both spellings as
    /// one variable; such a spelling is `.underscoreSpelling`: no proxy writes it, so it is
    /// never believed (a trusted proxy may pass a client's copy through) and never forwarded.
    private static func classifyX(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> HeaderName {
        func spelled(_ literal: StaticString, _ name: HeaderName) -> HeaderName? {
            spelling(bytes, start, count, literal, as: name)
        }
        let name: HeaderName?
        switch count {
        case 9: name = spelled("x-real-ip", .forwardingHint)
        case 11: name = spelled("x-client-ip", .forwardingHint)
        case 12: name = spelled("x-request-id", .xRequestId)
        case 13: name = spelled("x-rewrite-url", .forwardingHint) ?? spelled("x-http-method", .methodOverride)
        case 14: name = spelled("x-original-url", .forwardingHint)
        case 15: name = spelled("x-forwarded-for", .xForwardedFor)
        case 16: name = spelled("x-forwarded-host", .xForwardedHost) ?? spelled("x-forwarded-port", .forwardingHint)
        case 17: name = spelled("x-forwarded-proto", .xForwardedProto) ?? spelled("x-method-override", .methodOverride)
        case 18: name = spelled("x-forwarded-prefix", .forwardingHint)
        case 22: name = spelled("x-http-method-override", .methodOverride)
        default: name = nil
        }
        return name ?? .other
    }

    /// `name` when the field name is `literal` (lowercase ASCII) under case folding;
    /// `.underscoreSpelling` when it is, but with `_` for one of the literal's `-`; else nil.
    /// One pass over the bytes.
    @inline(__always)
    static func spelling(
        _ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int, _ literal: StaticString, as name: HeaderName
    ) -> HeaderName? {
        guard count == literal.utf8CodeUnitCount else { return nil }
        let expected = literal.utf8Start
        var underscored = false
        var i = 0
        while i < count {
            let byte = bytes[start &+ i]
            let want = expected[i]
            if want == 0x2D && byte == 0x5F {
                underscored = true
            } else if HTTPBytes.lowercased(byte) != want {
                return nil
            }
            i &+= 1
        }
        return underscored ? .underscoreSpelling : name
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
