private import COpenSSL
internal import Glibc

/// A certificate's OCSP response (`ocsp_response file:…` after its key), stapled to every
/// handshake whose client asks for certificate status (RFC 6066 §8) while the response is
/// fresh. The file is fetched by the operator's tooling (`openssl ocsp`, certbot, lego) and
/// re-read on `SIGHUP`, as with nginx's `ssl_stapling_file`: the gateway never calls out to
/// an OCSP responder from the handshake path.
///
/// Owns the C copy the status callback reads; the context holding the callback is kept alive
/// by the same `ServerTLS`, so the pointer never outlives this value.
final class OCSPStaple: @unchecked Sendable {
    private let pointer: UnsafeMutablePointer<gw_ocsp_staple>

    private init(_ pointer: UnsafeMutablePointer<gw_ocsp_staple>) { self.pointer = pointer }

    deinit { gw_ocsp_staple_free(pointer) }

    /// Loads and checks `path` against `context`'s certificate (issuer in the chain file,
    /// signature, status `good`) and installs it on `context`.
    /// - Returns: nil when the response has already passed its nextUpdate (nothing to staple;
    ///   the caller warns).
    /// - Throws: `TLSError` for a file that cannot be stapled.
    static func load(path: String, for context: TLSContext) throws(TLSError) -> OCSPStaple? {
        var result: Int32 = 0
        var osError: Int32 = 0
        guard let loaded = gw_ocsp_staple_load(context.pointer, path, &result, &osError) else {
            if Int(result) == Int(GW_OCSP_EXPIRED) { return nil }
            throw TLSError("ocsp_response \(path): " + problem(Int(result), osError: osError))
        }
        gw_ssl_ctx_set_ocsp_staple(context.pointer, loaded)
        return OCSPStaple(loaded)
    }

    private static func problem(_ result: Int, osError: Int32) -> String {
        switch result {
        case Int(GW_OCSP_UNREADABLE): String(cString: strerror(osError))
        case Int(GW_OCSP_NOT_A_RESPONSE): "not a DER-encoded OCSP response"
        case Int(GW_OCSP_UNSUCCESSFUL): "the responder did not answer successfully"
        case Int(GW_OCSP_NO_ISSUER): "the certificate file must also hold the issuer (intermediate) certificate"
        case Int(GW_OCSP_NOT_FOR_CERTIFICATE): "the response is not about this certificate"
        case Int(GW_OCSP_BAD_SIGNATURE): "the response signature does not verify against the issuer"
        case Int(GW_OCSP_REVOKED): "the response says the certificate is revoked"
        case Int(GW_OCSP_UNKNOWN): "the responder does not know the certificate"
        case Int(GW_OCSP_NOT_YET_VALID): "the response is not valid yet (check the clock)"
        default: "cannot be loaded"
        }
    }
}
