private import COpenSSL

/// The JWS signature algorithms the gateway supports (RFC 7518 §3, RFC 8037 for EdDSA).
package enum JWSAlgorithm: String, Sendable, CaseIterable {
    case hs256 = "HS256", hs384 = "HS384", hs512 = "HS512"
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"
    case ps256 = "PS256", ps384 = "PS384", ps512 = "PS512"
    case es256 = "ES256", es384 = "ES384", es512 = "ES512"
    case edDSA = "EdDSA"

    /// The family of key the algorithm needs.
    enum Family { case hmac, rsa, rsaPSS, ecdsa, ed25519 }

    var family: Family {
        switch self {
        case .hs256, .hs384, .hs512: .hmac
        case .rs256, .rs384, .rs512: .rsa
        case .ps256, .ps384, .ps512: .rsaPSS
        case .es256, .es384, .es512: .ecdsa
        case .edDSA: .ed25519
        }
    }

    /// True for HS256/384/512: the key is a shared secret, never a public key.
    package var isHMAC: Bool { family == .hmac }

    /// The OpenSSL digest name; nil for EdDSA (which hashes internally).
    var digestName: String? {
        switch self {
        case .hs256, .rs256, .ps256, .es256: "SHA256"
        case .hs384, .rs384, .ps384, .es384: "SHA384"
        case .hs512, .rs512, .ps512, .es512: "SHA512"
        case .edDSA: nil
        }
    }

    /// The digest length in bytes (the HMAC tag size and the PSS salt length); 0 for EdDSA.
    var digestSize: Int {
        switch self {
        case .hs256, .rs256, .ps256, .es256: 32
        case .hs384, .rs384, .ps384, .es384: 48
        case .hs512, .rs512, .ps512, .es512: 64
        case .edDSA: 0
        }
    }
}

/// A failed key load or signing operation: what failed plus the drained OpenSSL error queue.
/// Never contains key bytes.
package struct CryptoError: Error, Sendable, CustomStringConvertible {
    /// What the gateway was doing, e.g. "weak key: RSA key has 1024 bits, need at least 2048".
    package let message: String
    /// The OpenSSL error queue at the failure, oldest first (may be empty).
    package let libraryErrors: [String]

    package init(_ message: String, libraryErrors: [String] = []) {
        self.message = message
        self.libraryErrors = libraryErrors
    }

    package var description: String {
        libraryErrors.isEmpty ? message : message + " (" + libraryErrors.joined(separator: "; ") + ")"
    }

    /// An error with the current thread's OpenSSL error queue drained into it.
    static func openSSL(_ message: String) -> CryptoError {
        CryptoError(message, libraryErrors: OpenSSLErrors.drain())
    }
}

/// The per-thread OpenSSL error queue.
enum OpenSSLErrors {
    /// Empties the queue; call before a call whose failure will be reported.
    static func clear() { ERR_clear_error() }

    /// Empties the queue and returns its entries, oldest first.
    static func drain() -> [String] {
        var out: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            buffer.withUnsafeMutableBufferPointer { ERR_error_string_n(code, $0.baseAddress, $0.count) }
            out.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return out
    }
}

/// Facts about the three NIST curves JWS uses.
struct CurveInfo: Sendable {
    /// Bytes per coordinate and per signature half (32, 48, 66).
    let size: Int
    /// OpenSSL's group name ("prime256v1"...), as EVP_PKEY reports it.
    let groupName: String
    /// The JWK `crv` value.
    let jwkName: String
    /// The group order n, big-endian, `size` bytes.
    let order: [UInt8]

    static let p256 = CurveInfo(size: 32, groupName: "prime256v1", jwkName: "P-256", nid: NID_X9_62_prime256v1)
    static let p384 = CurveInfo(size: 48, groupName: "secp384r1", jwkName: "P-384", nid: NID_secp384r1)
    static let p521 = CurveInfo(size: 66, groupName: "secp521r1", jwkName: "P-521", nid: NID_secp521r1)

    static func forAlgorithm(_ algorithm: JWSAlgorithm) -> CurveInfo? {
        switch algorithm {
        case .es256: p256
        case .es384: p384
        case .es512: p521
        default: nil
        }
    }

    private init(size: Int, groupName: String, jwkName: String, nid: Int32) {
        self.size = size
        self.groupName = groupName
        self.jwkName = jwkName
        var order = [UInt8](repeating: 0, count: size)
        // The built-in named groups always exist; failing here means a broken libcrypto.
        guard let group = EC_GROUP_new_by_curve_name(nid) else { preconditionFailure("OpenSSL lacks curve \(groupName)") }
        defer { EC_GROUP_free(group) }
        let written = order.withUnsafeMutableBufferPointer { BN_bn2binpad(EC_GROUP_get0_order(group), $0.baseAddress, Int32(size)) }
        precondition(written == Int32(size), "curve order of \(groupName) does not fit")
        self.order = order
    }

    /// True when the big-endian `size`-byte integer at `value` is in [1, n-1].
    func isValidScalar(_ value: UnsafeRawBufferPointer) -> Bool {
        var nonZero: UInt8 = 0
        for byte in value { nonZero |= byte }
        if nonZero == 0 { return false }
        // Public values: an ordinary lexicographic compare of equal-length big-endian bytes.
        for index in 0..<size {
            let a = value[index], b = order[index]
            if a != b { return a < b }
        }
        return false  // equal to n
    }
}
