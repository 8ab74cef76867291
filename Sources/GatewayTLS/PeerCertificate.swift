private import COpenSSL

/// The names of a client certificate that verified against the listener's `client_ca`, read
/// once per connection: what `auth mtls` maps to an identity (SPEC §5 mTLS). Plain values,
/// so the access pipeline never touches OpenSSL.
package struct PeerCertificate: Sendable, Equatable {
    /// A name as the certificate holds it.
    package enum Name: Sendable, Equatable {
        case text(String)
        /// Present but not one clear text: an IA5String (DNS, e-mail, URI) with bytes outside
        /// printable ASCII, a subject string that is not UTF-8, or a subject attribute given
        /// twice. Never an identity, and never skipped in favour of the next name (that would
        /// let a malformed name promote another).
        case unreadable
    }

    /// Subject attributes (nil when absent; unreadable when repeated).
    package var commonName: Name?
    package var organization: Name?
    package var organizationalUnit: Name?
    /// Subject alternative names by kind, in certificate order.
    package var dnsNames: [Name] = []
    package var emails: [Name] = []
    package var uris: [Name] = []
    /// SHA-256 of the DER certificate, lower-case hex: names the certificate in logs and
    /// `X-Auth-Key-Id`, and keys the rendered-identity cache.
    package var fingerprint: String

    package init(
        commonName: String? = nil, organization: String? = nil, organizationalUnit: String? = nil,
        dnsNames: [String] = [], emails: [String] = [], uris: [String] = [], fingerprint: String
    ) {
        self.commonName = commonName.map(Name.text)
        self.organization = organization.map(Name.text)
        self.organizationalUnit = organizationalUnit.map(Name.text)
        self.dnsNames = dnsNames.map(Name.text)
        self.emails = emails.map(Name.text)
        self.uris = uris.map(Name.text)
        self.fingerprint = fingerprint
    }

    /// Reads `certificate` (borrowed: owned by the `SSL`).
    init?(_ certificate: OpaquePointer) {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 else { return nil }
        fingerprint = digest.prefix(Int(length)).map { byte in
            let hex = Array("0123456789abcdef")
            return String([hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        }.joined()
        if let subject = X509_get_subject_name(certificate) {
            commonName = Self.attribute(subject, NID_commonName)
            organization = Self.attribute(subject, NID_organizationName)
            organizationalUnit = Self.attribute(subject, NID_organizationalUnitName)
        }
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return }
        let names = OpaquePointer(raw)
        defer { gw_general_names_free(names) }
        for index in 0..<gw_general_names_count(names) {
            var type: Int32 = 0
            guard let name = gw_general_names_at(names, index), let text = gw_general_name_text(name, &type) else { continue }
            let value = Self.text(text)
            switch type {
            case gw_gen_dns(): dnsNames.append(value)
            case gw_gen_email(): emails.append(value)
            case gw_gen_uri(): uris.append(value)
            default: break
            }
        }
    }

    /// The `nid` entry of `name` as UTF-8 (nil when there is none). A subject with two of
    /// them (`CN=alice, CN=admin`) is ambiguous, unreadable: tools disagree on which counts.
    private static func attribute(_ name: OpaquePointer, _ nid: Int32) -> Name? {
        let index = X509_NAME_get_index_by_NID(name, nid, -1)
        guard index >= 0 else { return nil }
        guard X509_NAME_get_index_by_NID(name, nid, index) < 0,
              let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry) else {
            return .unreadable
        }
        var utf8: UnsafeMutablePointer<UInt8>? = nil
        let count = ASN1_STRING_to_UTF8(&utf8, data)
        guard count >= 0, let utf8 else { return .unreadable }
        defer { gw_openssl_free(utf8) }
        return String(validating: UnsafeBufferPointer(start: utf8, count: Int(count)), as: UTF8.self).map(Name.text) ?? .unreadable
    }

    /// An IA5String's bytes as text (printable ASCII; anything else is unreadable, not text
    /// to clean).
    private static func text(_ string: UnsafePointer<ASN1_STRING>) -> Name {
        guard let data = ASN1_STRING_get0_data(string) else { return .unreadable }
        let bytes = UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(string)))
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return .unreadable }
        return .text(String(decoding: bytes, as: UTF8.self))
    }
}

extension TLSSession {
    /// The client's certificate when it presented one and it verified in this handshake (nil
    /// otherwise: none asked for, none sent under `optional`, or a resumed session, whose
    /// certificate was checked at another time; listeners asking for certificates resume
    /// nothing, so this only closes the door twice).
    package var verifiedPeerCertificate: PeerCertificate? {
        guard !resumed, let certificate = SSL_get0_peer_certificate(handle),
              SSL_get_verify_result(handle) == X509_V_OK else { return nil }
        return PeerCertificate(certificate)
    }
}
