package import GatewayTLS

/// A name of a client certificate that can fill an identity field (`mtls { claims … }`).
package enum CertificateName: String, Sendable, Equatable, CaseIterable {
    case subjectCN = "subject_cn"
    case subjectO = "subject_o"
    case subjectOU = "subject_ou"
    case sanDNS = "san_dns"
    case sanEmail = "san_email"
    case sanURI = "san_uri"

    /// The first value of this name in `certificate` (nil when it has none).
    func value(in certificate: PeerCertificate) -> PeerCertificate.Name? {
        switch self {
        case .subjectCN: certificate.commonName
        case .subjectO: certificate.organization
        case .subjectOU: certificate.organizationalUnit
        case .sanDNS: certificate.dnsNames.first
        case .sanEmail: certificate.emails.first
        case .sanURI: certificate.uris.first
        }
    }
}

/// `mtls { claims user_id=san_uri,subject_cn email=san_email …; roles R…; permissions P…; }`
/// (SPEC §5 mTLS): how a verified client certificate becomes an identity on `auth mtls`
/// routes, like `claims` for a JWT. Each field takes the first name present; `roles` and
/// `permissions` are granted to every certificate identity.
package struct MTLSConfig: Sendable, Equatable {
    package var userID: [CertificateName] = [.subjectCN]
    package var orgID: [CertificateName] = []
    package var email: [CertificateName] = []
    package var name: [CertificateName] = []
    package var roles: [String] = []
    package var permissions: [String] = []
    package init() {}

    /// The identity a verified certificate stands for; nil when no name fills `user_id`, or
    /// when the first name present for any field is unreadable (refused, never skipped).
    package func identity(_ certificate: PeerCertificate) -> Identity? {
        var unreadable = false
        func first(_ names: [CertificateName]) -> String? {
            for name in names {
                switch name.value(in: certificate) {
                case nil: continue
                case .text(let text)?: return text
                case .unreadable?: unreadable = true; return nil
                }
            }
            return nil
        }
        guard let userID = first(userID), !userID.isEmpty else { return nil }
        var identity = Identity(userID: userID, permissions: permissions, roles: roles, method: .mtls)
        identity.orgID = first(orgID)
        identity.email = first(email)
        identity.name = first(name)
        guard !unreadable else { return nil }
        identity.subject = userID
        identity.keyID = "sha256:" + certificate.fingerprint.prefix(32)
        return identity
    }
}
