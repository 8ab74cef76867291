private import COpenSSL

/// Linked crypto library facts, for `gateway version`.
package enum CryptoLibrary {
    /// The OpenSSL version string of the library actually linked (not the headers').
    package static var version: String { String(cString: OpenSSL_version(numericCast(OPENSSL_VERSION))) }
}
