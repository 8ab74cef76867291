private import COpenSSL

/// Linked crypto library facts, for `gateway version`.
package enum CryptoLibrary {
    /// The OpenSSL version string of the library actually linked (not the headers').
    package static var version: String { String(cString: OpenSSL_version(numericCast(OPENSSL_VERSION))) }
}

extension CryptoLibrary {
    /// Tells OpenSSL not to free its global state from an `atexit` handler. The gateway exits
    /// while threads that used OpenSSL (event loops, fetchers, the accept thread) may still be
    /// running or tearing down their thread-local state; a cleanup racing them aborted the
    /// process with a double free after a clean stop. The OS reclaims the memory anyway.
    /// Call first thing in `main`, before any other OpenSSL use.
    package static func keepStateUntilExit() {
        _ = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil)
    }
}
