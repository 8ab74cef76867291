private import COpenSSL

/// How the gateway checks a server it connects to over TLS (an HTTPS upstream, a JWKS,
/// discovery or introspection URL), as plain values.
package struct ClientTLSSettings: Sendable, Equatable {
    /// PEM file of the CAs to trust; nil: the system store (OpenSSL's default paths, so
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR` apply, as for curl).
    package var caFile: String?
    /// Off only by explicit configuration (`tls_verify off`): the peer is not authenticated.
    package var verify: Bool
    /// A client certificate to present (mTLS to the upstream).
    package var certificate: ServerTLSSettings.Certificate?

    package init(caFile: String? = nil, verify: Bool = true, certificate: ServerTLSSettings.Certificate? = nil) {
        self.caFile = caFile
        self.verify = verify
        self.certificate = certificate
    }
}

/// A client-side TLS context: TLS 1.2/1.3, the intermediate cipher list, peer verification
/// (chain and host name, RFC 6125), ALPN `http/1.1`. Built once per configuration and shared
/// by every connection made with it.
package final class ClientTLS: Sendable {
    private let context: TLSContext
    package let settings: ClientTLSSettings

    /// - Throws: `TLSError` when the CA file or the client certificate does not load.
    package init(settings: ClientTLSSettings) throws(TLSError) {
        self.settings = settings
        context = try TLSContext(server: false)
        let pointer = context.pointer
        if let caFile = settings.caFile {
            guard SSL_CTX_load_verify_locations(pointer, caFile, nil) == 1 else {
                throw TLSError.fromQueue("ca \(caFile) does not load")
            }
        } else if SSL_CTX_set_default_verify_paths(pointer) != 1 {
            throw TLSError.fromQueue("the system CA store does not load")
        }
        if let certificate = settings.certificate {
            try context.useCertificate(chainFile: certificate.chainFile, keyFile: certificate.keyFile)
        }
        SSL_CTX_set_verify(pointer, settings.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        SSL_CTX_set_verify_depth(pointer, 8)
        _ = ALPN.http11Wire.withUnsafeBufferPointer { SSL_CTX_set_alpn_protos(pointer, $0.baseAddress, UInt32($0.count)) }
    }

    /// A client session over the connected (or connecting) socket `fd`, checking that the
    /// server's certificate covers `serverName` (a DNS name, sent as SNI, or an IP literal,
    /// matched against IP SANs and not sent). Nil when OpenSSL cannot allocate it.
    package func session(fd: Int32, serverName: String) -> TLSSession? {
        guard let session = TLSSession(context: context, fd: fd, owner: self, accept: false) else { return nil }
        let ssl = session.handle
        let isAddress = serverName.contains(":") || serverName.allSatisfy { $0 == "." || $0.isNumber }
        if isAddress {
            guard let parameters = SSL_get0_param(ssl), X509_VERIFY_PARAM_set1_ip_asc(parameters, serverName) == 1 else {
                return nil
            }
        } else {
            guard gw_ssl_set_host_name(ssl, serverName) == 1, SSL_set1_host(ssl, serverName) == 1 else { return nil }
        }
        return session
    }
}
