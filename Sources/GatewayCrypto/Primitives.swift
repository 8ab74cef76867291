private import COpenSSL

/// SHA-256 (stored API-key secrets, token-cache keys, legacy key lookup).
package enum Digest {
    /// The 32-byte SHA-256 of `bytes`. Any thread.
    package static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBytes { digest in
            // Cannot fail for in-memory input; no allocation, no provider lookup (see shim.h).
            gw_sha256(bytes.baseAddress, bytes.count, digest.baseAddress)
        }
        return out
    }

    package static func sha256(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBytes { sha256($0) } }
}

/// The OS CSPRNG through OpenSSL (`RAND_bytes`), for key secrets and token ids.
package enum SecureRandom {
    /// `count` random bytes. Traps when the generator fails: continuing with weak randomness
    /// would be worse than stopping (fail closed).
    package static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBytes { RAND_bytes($0.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return out
    }
}

/// Comparisons whose time does not depend on where the inputs differ.
package enum ConstantTime {
    /// Equal length and equal bytes; time depends only on the length.
    package static func equals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        if a.count == 0 { return true }
        return CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
    }

    package static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in equals(x, y) } }
    }
}
