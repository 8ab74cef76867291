private import COpenSSL

/// What a TLS listener is configured with (`listen ADDR tls { ... }`), as plain values: the
/// configuration layer fills it, `ServerTLS` loads it.
package struct ServerTLSSettings: Sendable, Equatable {
    /// One certificate chain and its key (PEM files).
    package struct Certificate: Sendable, Equatable {
        package var chainFile: String
        package var keyFile: String
        /// A DER OCSP response for this certificate, stapled while fresh (`ocsp_response`).
        package var ocspResponseFile: String?
        package init(chainFile: String, keyFile: String, ocspResponseFile: String? = nil) {
            self.chainFile = chainFile
            self.keyFile = keyFile
            self.ocspResponseFile = ocspResponseFile
        }
    }

    /// Whether clients present a certificate.
    package enum ClientCertificates: String, Sendable, Equatable {
        /// Not asked for.
        case off
        /// Asked for; a client without one is served; one that does not verify is refused.
        case optional
        /// A client without a verifying certificate is refused in the handshake.
        case required
    }

    /// Chosen by SNI; the first is the default (no SNI, or a name none of them covers).
    package var certificates: [Certificate]
    /// PEM file of the CAs that client certificates must chain to.
    package var clientCAFile: String?
    package var clientCertificates: ClientCertificates

    package init(certificates: [Certificate], clientCAFile: String? = nil, clientCertificates: ClientCertificates = .off) {
        self.certificates = certificates
        self.clientCAFile = clientCAFile
        self.clientCertificates = clientCertificates
    }
}

/// A TLS listener's loaded certificates: one OpenSSL context per certificate, all with the
/// same settings (TLS 1.2/1.3, intermediate ciphers, ALPN `http/1.1`, session tickets, the
/// client-certificate policy). A handshake starts on the first (default) context; the SNI
/// callback moves it to the first certificate whose names cover the requested host name
/// (RFC 6125 matching by OpenSSL, wildcards in the leftmost label).
///
/// Built at config load (so `check-config` and a failed reload report a bad file) and
/// replaced as a whole on `SIGHUP`; connections keep the one they started with.
package final class ServerTLS: Sendable {
    private let contexts: [TLSContext]
    /// The OCSP responses the contexts' status callbacks read (kept as long as the contexts).
    private let staples: [OCSPStaple]
    package let settings: ServerTLSSettings
    /// What loads but deserves the operator's attention (an OCSP response already expired).
    package let warnings: [String]

    /// Loads every certificate and key, and the client CA file.
    /// - Throws: `TLSError` naming the file that does not load.
    package init(settings: ServerTLSSettings) throws(TLSError) {
        guard !settings.certificates.isEmpty else { throw TLSError("a TLS listener needs a certificate") }
        self.settings = settings
        var contexts: [TLSContext] = []
        var staples: [OCSPStaple] = []
        var warnings: [String] = []
        for certificate in settings.certificates {
            let context = try TLSContext(server: true)
            try context.useCertificate(chainFile: certificate.chainFile, keyFile: certificate.keyFile)
            try Self.configure(context, settings: settings)
            if let file = certificate.ocspResponseFile {
                if let staple = try OCSPStaple.load(path: file, for: context) {
                    staples.append(staple)
                } else {
                    warnings.append("ocsp_response \(file) has expired: it is not stapled until a fresh one is loaded")
                }
            }
            contexts.append(context)
        }
        self.contexts = contexts
        self.staples = staples
        self.warnings = warnings
        if contexts.count > 1 {
            gw_ssl_ctx_set_servername_callback(
                contexts[0].pointer, serverNameCallback, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    /// A server-side session for an accepted socket; nil when OpenSSL cannot allocate one.
    package func session(fd: Int32) -> TLSSession? {
        TLSSession(context: contexts[0], fd: fd, owner: self, accept: true)
    }

    /// The index of the certificate serving `name` (0, the default, when none covers it).
    func certificateIndex(serving name: UnsafePointer<CChar>) -> Int {
        let length = strlen(name)
        for (index, context) in contexts.enumerated() {
            guard let leaf = context.leafCertificate else { continue }
            if X509_check_host(leaf, name, length, 0, nil) == 1 { return index }
        }
        return 0
    }

    fileprivate func context(at index: Int) -> TLSContext { contexts[index] }

    private static func configure(_ context: TLSContext, settings: ServerTLSSettings) throws(TLSError) {
        let pointer = context.pointer
        SSL_CTX_set_options(pointer, gw_ssl_server_preference())
        SSL_CTX_set_alpn_select_cb(pointer, alpnCallback, nil)
        gw_ssl_ctx_disable_session_cache(pointer)
        guard settings.clientCertificates != .off else {
            // Tickets resume across every listener without client certificates and their SNI
            // contexts: such a session carries no identity, the requests on it authenticate.
            setSessionContext(pointer, "gateway")
            TicketKeyRing.shared.install(on: pointer)
            return
        }
        // A listener that asks for client certificates verifies a chain in every handshake and
        // resumes nothing: a resumed session would carry a certificate verified earlier, maybe
        // since expired, under a `client_ca` a reload has replaced, or on another listener.
        // Its own session context also keeps other listeners' tickets out.
        setSessionContext(pointer, "gateway client certificates")
        gw_ssl_ctx_disable_tickets(pointer)
        guard let caFile = settings.clientCAFile else { throw TLSError("client_certificate needs client_ca") }
        guard SSL_CTX_load_verify_locations(pointer, caFile, nil) == 1 else {
            throw TLSError.fromQueue("client_ca \(caFile) does not load")
        }
        guard let names = SSL_load_client_CA_file(caFile) else {
            throw TLSError.fromQueue("client_ca \(caFile) has no certificate")
        }
        SSL_CTX_set_client_CA_list(pointer, names)   // takes ownership of `names`
        let mode = settings.clientCertificates == .required ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER
        SSL_CTX_set_verify(pointer, mode, nil)
        SSL_CTX_set_verify_depth(pointer, 8)
    }
}

private func setSessionContext(_ context: OpaquePointer, _ name: String) {
    let bytes = Array(name.utf8)
    _ = SSL_CTX_set_session_id_context(context, bytes, UInt32(bytes.count))
}

/// SNI: moves the handshake to the context whose certificate covers the requested name.
private let serverNameCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32 = {
    ssl, _, argument in
    guard let ssl, let argument, let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else {
        return gw_ssl_tlsext_err_ok()
    }
    let server = Unmanaged<ServerTLS>.fromOpaque(argument).takeUnretainedValue()
    let index = server.certificateIndex(serving: name)
    if index != 0 { _ = SSL_set_SSL_CTX(ssl, server.context(at: index).pointer) }
    return gw_ssl_tlsext_err_ok()
}

/// ALPN: the gateway speaks HTTP/1.1; a client offering only other protocols gets no ALPN
/// answer (RFC 7301 allows it; clients then fall back to HTTP/1.1 or give up themselves).
private let alpnCallback: @convention(c) (
    OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
    UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?
) -> Int32 = { _, out, outLength, offered, offeredLength, _ in
    guard let out, let outLength, let offered else { return gw_ssl_tlsext_err_noack() }
    let list = UnsafeBufferPointer(start: offered, count: Int(offeredLength))
    var index = 0
    while index < list.count {
        let length = Int(list[index])
        let start = index + 1
        guard start + length <= list.count else { break }
        if ALPN.isHTTP11(UnsafeBufferPointer(rebasing: list[start..<start + length])) {
            out.pointee = offered + start   // points into the client's list, valid for the call
            outLength.pointee = UInt8(length)
            return gw_ssl_tlsext_err_ok()
        }
        index = start + length
    }
    return gw_ssl_tlsext_err_noack()
}

/// The one application protocol the gateway negotiates.
enum ALPN {
    static let http11: [UInt8] = Array("http/1.1".utf8)
    /// The wire form for `SSL_set_alpn_protos` (length-prefixed).
    static let http11Wire: [UInt8] = [UInt8(http11.count)] + http11

    static func isHTTP11(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        name.count == http11.count && zip(name, http11).allSatisfy { $0 == $1 }
    }
}
