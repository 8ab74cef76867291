package import GatewayTLS

/// A name of a client certificate that can fill an identity field (`mtls { claims … }`).
package enum CertificateName: String, Sendable, Equatable, CaseIterable {
    case subjectCN = "subject_cn"
    case subjectO = "subject_o"
    case subjectOU = "subject_ou"
    case sanDNS = "san_dns"
    case sanEmail = "san_email"
    case sanURI = "san_uri"

    /// The first value of this name in `certificate`.
    func value(in certificate: PeerCertificate) -> String? {
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

    /// The identity a verified certificate stands for; nil when no name fills `user_id`.
    package func identity(_ certificate: PeerCertificate) -> Identity? {
        func first(_ names: [CertificateName]) -> String? { names.lazy.compactMap { $0.value(in: certificate) }.first }
        guard let userID = first(userID), !userID.isEmpty else { return nil }
        var identity = Identity(userID: userID, permissions: permissions, roles: roles, method: .mtls)
        identity.orgID = first(orgID)
        identity.email = first(email)
        identity.name = first(name)
        identity.subject = userID
        identity.keyID = "sha256:" + certificate.fingerprint.prefix(32)
        return identity
    }
}
