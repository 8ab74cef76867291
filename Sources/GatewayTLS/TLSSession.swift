private import COpenSSL
internal import Glibc

/// What one non-blocking TLS call did.
package enum TLSStep: Equatable, Sendable {
    /// Application bytes moved (0 only for a finished handshake).
    case bytes(Int)
    /// Needs the socket readable before the same call can go on.
    case wantRead
    /// Needs the socket writable before the same call can go on.
    case wantWrite
    /// The peer ended the stream (close_notify or a plain end of the connection).
    case closed
    /// A protocol, certificate or socket error: the connection is unusable.
    case failed
}

/// One TLS connection over a non-blocking socket the caller owns: the `SSL` object, freed
/// with this value. The handshake runs inside the first reads/writes (or `handshake()`), so
/// the event loop drives it like any other I/O: a `.wantRead`/`.wantWrite` answer says which
/// readiness to wait for before the same call is retried.
///
/// Loop-confined (or confined to the one thread of a blocking fetch), like its socket.
package final class TLSSession {
    private let ssl: OpaquePointer
    /// Keeps what the `SSL`'s callbacks point at (the server's certificate list for SNI)
    /// alive as long as the connection, even when a reload replaced it meanwhile.
    private let owner: AnyObject
    /// The peer sent a plain HTTP request to a TLS port (OpenSSL recognizes it).
    package private(set) var sawPlainHTTP = false
    /// Why the last `.failed` happened (OpenSSL's reasons; for logs, never secrets).
    package private(set) var failureReason = ""

    /// The socket BIO's last read (see `socketDrained`); freed after the `SSL` that writes it.
    private let readProbe = UnsafeMutablePointer<gw_read_probe>.allocate(capacity: 1)

    init?(context: TLSContext, fd: Int32, owner: AnyObject, accept: Bool) {
        readProbe.initialize(to: gw_read_probe(requested: 0, received: 0))
        guard let ssl = SSL_new(context.pointer) else {
            _ = OpenSSLErrors.drain()
            readProbe.deallocate()
            return nil
        }
        self.ssl = ssl
        self.owner = owner
        guard SSL_set_fd(ssl, fd) == 1 else {
            _ = OpenSSLErrors.drain()
            return nil
        }
        gw_ssl_install_read_probe(ssl, readProbe)
        if accept { SSL_set_accept_state(ssl) } else { SSL_set_connect_state(ssl) }
    }

    deinit {
        SSL_free(ssl)
        readProbe.deallocate()
    }

    /// After a read that returned bytes: OpenSSL holds nothing more (no decrypted bytes, no
    /// undecrypted record) and its last read() from the socket came back short, so the socket
    /// was empty then. Any later arrival raises a new epoll edge, so the caller may stop
    /// reading without the extra read() that would only say EAGAIN.
    package var socketDrained: Bool {
        readProbe.pointee.received < readProbe.pointee.requested && SSL_has_pending(ssl) == 0
    }

    /// The raw `SSL *`, for the session's own module (client name checks, peer certificate).
    var handle: OpaquePointer { ssl }

    /// Drives the handshake. - Returns: `.bytes(0)` once it is complete.
    package func handshake() -> TLSStep {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        return rc == 1 ? .bytes(0) : classify(rc)
    }

    package var handshakeDone: Bool { SSL_is_init_finished(ssl) == 1 }

    /// Reads decrypted bytes into `buffer` (handshaking first if needed).
    package func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSStep {
        ERR_clear_error()
        var count = 0
        let rc = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count)
        return rc == 1 ? .bytes(count) : classify(rc)
    }

    /// Encrypts and sends a prefix of `bytes`. After `.wantRead`/`.wantWrite` the retry must
    /// pass the same bytes again (more may follow them: the buffer may also have moved).
    package func write(_ bytes: UnsafeRawBufferPointer) -> TLSStep {
        guard !bytes.isEmpty else { return .bytes(0) }
        ERR_clear_error()
        var count = 0
        let rc = SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &count)
        return rc == 1 ? .bytes(count) : classify(rc)
    }

    /// Sends close_notify once, without waiting for the peer's (the socket closes next).
    package func shutdown() {
        guard handshakeDone else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// The negotiated protocol ("TLSv1.3"), for logs and tests.
    package var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// The ALPN protocol chosen, or "" when none was.
    package var alpn: String {
        var data: UnsafePointer<UInt8>? = nil
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return "" }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Whether the handshake resumed an earlier session.
    package var resumed: Bool { SSL_session_reused(ssl) == 1 }

    private func classify(_ rc: Int32) -> TLSStep {
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let code = errno
            let queued = OpenSSLErrors.drain()
            if queued.isEmpty && (code == 0 || code == EAGAIN) { return .closed }
            failureReason = queued.isEmpty ? "socket error \(code)" : String(queued.dropFirst(2))
            return .failed
        default:
            let first = ERR_peek_error()
            if gw_ssl_reason_is_http_request(first) != 0 { sawPlainHTTP = true }
            let verify = SSL_get_verify_result(ssl)
            let queued = String(OpenSSLErrors.drain().dropFirst(2))
            if verify != X509_V_OK, let text = X509_verify_cert_error_string(verify) {
                failureReason = "certificate verification failed: " + String(cString: text)
            } else {
                failureReason = queued.isEmpty ? "TLS error" : queued
            }
            return .failed
        }
    }
}

@available(*, unavailable)
extension TLSSession: Sendable {}
