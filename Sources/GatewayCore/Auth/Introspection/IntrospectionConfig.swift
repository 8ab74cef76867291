package import GatewaySupport

/// `introspection { url URL; client_id ID; client_secret SECRET; cache D; negative_cache D;
/// audience A…; claims …; }` (SPEC §5 delegated authentication, RFC 7662): opaque bearer
/// tokens are checked by the authorization server's introspection endpoint.
package struct IntrospectionConfig: Sendable, Equatable {
    /// The endpoint (`https://`, or `http://` on loopback).
    package var url: JWKSURL
    /// The gateway's own client credentials at the authorization server (HTTP Basic, RFC 7662 §2.1).
    package var clientID: String
    package var clientSecret: Secret<[UInt8]>
    /// `cache D;` — how long an active answer is reused (never past the token's `exp`). Default 30s.
    package var cacheTTL: Duration = .seconds(30)
    /// `negative_cache D;` — how long `active: false` is remembered. Default 5s.
    package var negativeTTL: Duration = .seconds(5)
    /// `audience A…;` — when set, the answer's `aud` must name one of them.
    package var audiences: [String] = []
    /// `claims …;` — which response members fill the identity (default user id: `sub`,
    /// else `username`, else `client_id` for client-credentials tokens).
    package var claims = ClaimMapping(userID: ["sub", "username", "client_id"])
    /// `ca file:PATH;` — the CAs an `https` endpoint is checked against instead of the system store.
    package var caFile: String? = nil
    package var location: SourceLocation

    package init(url: JWKSURL, clientID: String, clientSecret: Secret<[UInt8]>, location: SourceLocation) {
        self.url = url
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.location = location
    }

}
