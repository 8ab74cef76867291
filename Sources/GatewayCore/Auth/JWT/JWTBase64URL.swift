/// Strict unpadded base64url (RFC 4648 §5, RFC 7515 §2) for compact JWS segments.
///
/// Rejected: `=` padding, `+`, `/`, whitespace or any byte outside `A-Za-z0-9-_`, a length
/// `≡ 1 (mod 4)`, and non-canonical encodings (unused trailing bits that are not zero), so every
/// byte string has exactly one accepted encoding. Any thread; no Foundation.
package enum JWTBase64URL {
    /// The 6-bit value of one base64url character, or `0xFF` when it is not in the alphabet.
    @inline(__always)
    static func sextet(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte &- UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte &- UInt8(ascii: "a") &+ 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0") &+ 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: 0xFF
        }
    }

    /// Decodes `input` (one segment, without dots).
    /// - Returns: the decoded bytes, or `nil` when the input is not canonical unpadded base64url.
    package static func decode(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        let count = input.count
        let tail = count & 3
        if tail == 1 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(count / 4 * 3 + (tail == 0 ? 0 : tail - 1))
        var index = 0
        let whole = count - tail
        while index < whole {
            let a = sextet(input[index]), b = sextet(input[index + 1])
            let c = sextet(input[index + 2]), d = sextet(input[index + 3])
            if (a | b | c | d) & 0xC0 != 0 { return nil }
            out.append(a << 2 | b >> 4)
            out.append(b << 4 | c >> 2)
            out.append(c << 6 | d)
            index += 4
        }
        if tail == 2 {
            let a = sextet(input[index]), b = sextet(input[index + 1])
            if (a | b) & 0xC0 != 0 || b & 0x0F != 0 { return nil }
            out.append(a << 2 | b >> 4)
        } else if tail == 3 {
            let a = sextet(input[index]), b = sextet(input[index + 1]), c = sextet(input[index + 2])
            if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 { return nil }
            out.append(a << 2 | b >> 4)
            out.append(b << 4 | c >> 2)
        }
        return out
    }

    /// Decodes a byte array; see ``decode(_:)-(UnsafeRawBufferPointer)``.
    package static func decode(_ input: [UInt8]) -> [UInt8]? { input.withUnsafeBytes { decode($0) } }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Encodes `bytes` as unpadded base64url (for issued tokens and tests).
    package static func encode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let input = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity((input.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= input.count {
            let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
            out.append(alphabet[Int(value >> 6 & 63)])
            out.append(alphabet[Int(value & 63)])
            index += 3
        }
        let rest = input.count - index
        if rest == 1 {
            let value = UInt32(input[index]) << 16
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
        } else if rest == 2 {
            let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
            out.append(alphabet[Int(value >> 6 & 63)])
        }
        return out
    }

    /// Encodes `bytes` as an unpadded base64url `String`.
    package static func encodeToString(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: encode(bytes), as: UTF8.self)
    }
}
