private import COpenSSL

/// One OpenSSL `SSL_CTX`, owned: freed when the last reference goes. Sessions created from it
/// hold their own OpenSSL reference, so a context replaced by a reload lives on until its
/// last connection closes.
///
/// `SSL_CTX` is safe to share between threads once configured (`SSL_new`, the session cache
/// and ticket keys lock internally); it is configured only in `init`, hence `@unchecked`.
final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Mozilla "intermediate" TLS 1.2 suites (ECDHE with AES-GCM or ChaCha20 only; no DHE,
    /// so no DH parameters are needed).
    static let tls12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
    /// Mozilla "intermediate" TLS 1.3 order: the same three suites as OpenSSL's default, with
    /// AES-128 first (OpenSSL puts AES-256 first). All three are strong; AES-128-GCM is the
    /// cheapest where AES instructions exist, and its SHA-256 key schedule is cheaper than
    /// SHA-384's, which counts on every handshake and every pooled upstream record.
    static let tls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    static let groups = "X25519:P-256:P-384"

    /// A context with the settings every gateway TLS endpoint shares: TLS 1.2 and 1.3 only,
    /// the cipher list above, no renegotiation or compression, non-blocking write modes.
    init(server: Bool) throws(TLSError) {
        guard let context = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError.fromQueue("cannot create a TLS context")
        }
        pointer = context
        guard gw_ssl_ctx_set_protocols_12_13(context) == 1,
              SSL_CTX_set_cipher_list(context, Self.tls12Ciphers) == 1,
              SSL_CTX_set_ciphersuites(context, Self.tls13Suites) == 1,
              gw_ssl_ctx_set_groups(context, Self.groups) == 1
        else { throw TLSError.fromQueue("cannot configure the TLS context") }
        // A peer that closes without close_notify is an ordinary end of stream: HTTP framing,
        // not the TLS layer, says whether a message was complete.
        SSL_CTX_set_options(context, gw_ssl_hardening_options())
        gw_ssl_ctx_set_nonblocking_modes(context)
    }

    deinit { SSL_CTX_free(pointer) }

    /// Loads a PEM certificate chain and its private key, and checks that they match.
    func useCertificate(chainFile: String, keyFile: String) throws(TLSError) {
        guard SSL_CTX_use_certificate_chain_file(pointer, chainFile) == 1 else {
            throw TLSError.fromQueue("certificate \(chainFile) does not load")
        }
        guard SSL_CTX_use_PrivateKey_file(pointer, keyFile, SSL_FILETYPE_PEM) == 1 else {
            let reasons = OpenSSLErrors.drain()
            if reasons.contains("mismatch") { throw TLSError("key \(keyFile) does not match certificate \(chainFile)") }
            throw TLSError("key \(keyFile) does not load" + reasons)
        }
        guard SSL_CTX_check_private_key(pointer) == 1 else {
            throw TLSError.fromQueue("key \(keyFile) does not match certificate \(chainFile)")
        }
    }

    /// The leaf certificate loaded by `useCertificate` (owned by the context).
    var leafCertificate: OpaquePointer? { SSL_CTX_get0_certificate(pointer) }
}
