import GatewayCrypto

/// A presented API key split into its parts (shape and checksum already verified).
package struct ParsedAPIKey: Sendable, Equatable {
    /// The configured prefix that matched (`gw_`).
    package let prefix: String
    /// The 12-character public key id.
    package let id: String
    /// The 32 secret bytes (base62 ASCII). Never log.
    package let secret: [UInt8]
}

/// The API-key format of SPEC §5: `<prefix><id>_<secret><check>`.
///
/// `id` is 12 base62 characters, `secret` 32 base62 characters from the CSPRNG, `check` the
/// CRC-32 (IEEE, zlib's) of the UTF-8 bytes of `<prefix><id>_<secret>` as 6 base62 characters,
/// most significant first, zero-padded. Alphabet `0-9A-Za-z`. Pure; any thread.
package enum APIKeyFormat {
    /// Characters in the id.
    package static let idLength = 12
    /// Characters in the secret.
    package static let secretLength = 32
    /// Characters in the checksum.
    package static let checkLength = 6
    /// Characters after the prefix: id, `_`, secret, check.
    package static let bodyLength = idLength + 1 + secretLength + checkLength

    /// The base62 alphabet, in digit order.
    package static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// Whether `prefix` can be used for new keys: 1...32 printable ASCII characters, no
    /// whitespace, quotes or backslash.
    package static func isValidPrefix(_ prefix: String) -> Bool {
        let bytes = Array(prefix.utf8)
        guard (1...32).contains(bytes.count) else { return false }
        return bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }

    /// A new key. - Returns: the whole key (shown once), its id and its secret.
    /// - Precondition: `isValidPrefix(prefix)`.
    package static func generate(prefix: String) -> (key: String, id: String, secret: String) {
        precondition(isValidPrefix(prefix), "invalid API key prefix")
        let id = randomBase62(count: idLength)
        let secret = randomBase62(count: secretLength)
        let body = prefix + id + "_" + secret
        let key = body + checksum(of: Array(body.utf8))
        return (key, id, secret)
    }

    /// A random id (12 base62 characters), for legacy imports and tests.
    package static func randomID() -> String { randomBase62(count: idLength) }

    /// `count` uniformly random base62 characters from the CSPRNG. Bytes >= 248 (4 × 62) are
    /// rejected so every character has probability exactly 1/62 (no modulo bias).
    package static func randomBase62(count: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            for byte in SecureRandom.bytes(count + count / 2) where byte < 248 {
                out.append(alphabet[Int(byte % 62)])
                if out.count == count { break }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The 6-character check for `body` (`<prefix><id>_<secret>` bytes).
    package static func checksum(of body: [UInt8]) -> String {
        body.withUnsafeBytes { base62(UInt64(crc32($0)), width: checkLength) }
    }

    /// `value` in base62, most significant first, left-padded with `0` to at least `width`.
    package static func base62(_ value: UInt64, width: Int) -> String {
        var digits: [UInt8] = []
        var v = value
        repeat {
            digits.append(alphabet[Int(v % 62)])
            v /= 62
        } while v > 0
        while digits.count < width { digits.append(UInt8(ascii: "0")) }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    /// The digit value of a base62 character, or `nil`.
    @inline(__always)
    package static func base62Digit(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a") + 36
        default: nil
        }
    }

    // MARK: CRC-32

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 as zlib computes it (reflected polynomial 0xEDB88320, init and final xor
    /// 0xFFFFFFFF). `crc32("123456789") == 0xCBF43926`.
    package static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        crcTable.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// CRC-32 of `bytes`.
    package static func crc32(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { crc32($0) } }

    // MARK: Parsing

    /// Splits and verifies `presented` against `prefixes`, with the reason on failure
    /// (`.malformed` or `.badChecksum`). No store lookup.
    package static func check(_ presented: UnsafeRawBufferPointer, prefixes: [String]) -> Result<ParsedAPIKey, APIKeyFailure> {
        var sawShape = false
        for prefix in prefixes {
            let prefixBytes = prefix.utf8
            guard presented.count == prefixBytes.count + bodyLength,
                  presented.starts(with: prefixBytes) else { continue }
            let idStart = prefixBytes.count
            let underscore = idStart + idLength
            let secretStart = underscore + 1
            let checkStart = secretStart + secretLength
            guard presented[underscore] == UInt8(ascii: "_") else { continue }
            var shapeOK = true
            for i in idStart..<underscore where base62Digit(presented[i]) == nil { shapeOK = false }
            for i in secretStart..<presented.count where base62Digit(presented[i]) == nil { shapeOK = false }
            guard shapeOK else { continue }
            sawShape = true
            var expected: UInt64 = 0
            for i in checkStart..<presented.count { expected = expected * 62 + UInt64(base62Digit(presented[i])!) }
            let actual = crc32(UnsafeRawBufferPointer(rebasing: presented[0..<checkStart]))
            guard expected == UInt64(actual) else { continue }
            let id = String(decoding: UnsafeRawBufferPointer(rebasing: presented[idStart..<underscore]), as: UTF8.self)
            let secret = Array(presented[secretStart..<checkStart])
            return .success(ParsedAPIKey(prefix: prefix, id: id, secret: secret))
        }
        return .failure(sawShape ? .badChecksum : .malformed)
    }

    /// `check` over an array.
    package static func check(_ presented: [UInt8], prefixes: [String]) -> Result<ParsedAPIKey, APIKeyFailure> {
        presented.withUnsafeBytes { check($0, prefixes: prefixes) }
    }

    /// The parts of `presented`, or `nil` when its shape or checksum is wrong.
    package static func parse(_ presented: UnsafeRawBufferPointer, prefixes: [String]) -> ParsedAPIKey? {
        try? check(presented, prefixes: prefixes).get()
    }

    /// `parse` over an array.
    package static func parse(_ presented: [UInt8], prefixes: [String]) -> ParsedAPIKey? {
        try? check(presented, prefixes: prefixes).get()
    }

    /// `parse` over a string.
    package static func parse(_ presented: String, prefixes: [String]) -> ParsedAPIKey? {
        parse(Array(presented.utf8), prefixes: prefixes)
    }
}
