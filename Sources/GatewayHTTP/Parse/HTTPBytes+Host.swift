extension HTTPBytes {
    /// Whether `bytes[start ..< start + count]` is `uri-host [ ":" port ]` (RFC 3986 §3.2.2,
    /// RFC 9110 §7.2): a non-empty reg-name or IPv4 address (unreserved, pct-encoded and
    /// sub-delims), or an IPv6 literal in brackets, then optionally `:` and 1-5 digits ≤ 65535.
    ///
    /// Stricter than RFC 3986 in three ways: the host must not be empty, a port present after
    /// `:` must not be empty, and `IPvFuture` literals are rejected. The IPv6 literal is
    /// checked for its alphabet (hex digits, `:` and `.`) only, not its full grammar.
    package static func isValidHostPort(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> Bool {
        guard count > 0 else { return false }
        let end = start &+ count
        var i = start
        if bytes[i] == 0x5B {  // "["
            i &+= 1
            let literalStart = i
            var sawColon = false
            while i < end {
                let b = bytes[i]
                if b == 0x3A {
                    sawColon = true
                } else if !(hexValue(b) != nil || b == 0x2E) {
                    break
                }
                i &+= 1
            }
            guard i < end, bytes[i] == 0x5D, i &- literalStart >= 2, sawColon else { return false }
            i &+= 1
        } else {
            let hostStart = i
            while i < end {
                let b = bytes[i]
                if isRegNameByte(b) {
                    i &+= 1
                } else if b == 0x25 {  // pct-encoded
                    guard end &- i >= 3, hexValue(bytes[i &+ 1]) != nil, hexValue(bytes[i &+ 2]) != nil else { return false }
                    i &+= 3
                } else {
                    break
                }
            }
            guard i > hostStart else { return false }
        }
        if i == end { return true }
        guard bytes[i] == 0x3A else { return false }
        i &+= 1
        let digits = end &- i
        guard digits >= 1, digits <= 5, let port = parseDecimal(bytes, i, digits), port <= 65535 else { return false }
        return true
    }

    /// unreserved / sub-delims (RFC 3986 §2.2-2.3), the literal bytes of a reg-name.
    @inline(__always)
    static func isRegNameByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39: true  // ALPHA DIGIT
        case 0x2D, 0x2E, 0x5F, 0x7E: true  // - . _ ~
        case 0x21, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x3B, 0x3D: true  // ! $ & ' ( ) * + , ; =
        default: false
        }
    }
}
