import GatewaySupport

/// The documents the token service publishes (SPEC §10), rendered once per configuration:
/// RFC 8414 authorization-server metadata and the JWKS of the signing keys.
package struct TokenServiceDocuments: Sendable {
    /// `GET /.well-known/oauth-authorization-server`.
    package let metadata: [UInt8]
    /// `GET /.well-known/jwks.json`: current and previous public keys.
    package let jwks: [UInt8]

    /// Paths of the token service on the public listener.
    package static let tokenPath = "/_gateway/token"
    package static let revokePath = "/_gateway/revoke"
    package static let jwksPath = "/.well-known/jwks.json"
    package static let metadataPath = "/.well-known/oauth-authorization-server"

    package init(issuer: TokenIssuer, config: GatewayConfig) {
        jwks = Array(issuer.jwks().utf8)
        metadata = Self.metadata(issuer: issuer.issuer, scopes: Self.scopes(config))
    }

    /// RFC 8414 §2. The endpoints hang off the issuer URL, which is where clients reach the
    /// gateway; there is no authorization endpoint (no browser flows), so no response types.
    static func metadata(issuer: String, scopes: [String]) -> [UInt8] {
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        var document = JSONObjectWriter()
        document.string("issuer", issuer)
        document.string("token_endpoint", base + tokenPath)
        document.string("revocation_endpoint", base + revokePath)
        document.string("jwks_uri", base + jwksPath)
        document.strings("grant_types_supported", ["client_credentials", "refresh_token"])
        document.strings("token_endpoint_auth_methods_supported", ["client_secret_basic", "client_secret_post"])
        document.strings("revocation_endpoint_auth_methods_supported", ["none"])
        document.strings("response_types_supported", [])
        document.strings("scopes_supported", scopes)
        return document.finished()
    }

    /// Every permission the configuration names (route rules and roles), sorted.
    static func scopes(_ config: GatewayConfig) -> [String] {
        var names: Set<String> = []
        for route in config.routes {
            names.formUnion(route.require)
            names.formUnion(route.requireAny)
        }
        for role in config.roles { names.formUnion(role.permissions) }
        return names.sorted()
    }
}
