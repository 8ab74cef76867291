import GatewayCore
import GatewayTLS

/// Fetches JWKS and discovery documents over HTTP and HTTPS with the blocking client.
struct HTTPJWKSTransport: JWKSTransport {
    let client: BlockingHTTPClient

    /// The transports by scheme, sharing one client (its TLS context trusts the system store).
    static func all() -> [JWKSURL.Scheme: any JWKSTransport] {
        let transport = HTTPJWKSTransport(client: .system())
        return [.http: transport, .https: transport]
    }

    func fetch(_ url: JWKSURL, tls: ClientTLS?, limits: JWKSFetchLimits) -> Result<[UInt8], JWKSFetchError> {
        client.trusting(tls).send("GET", url, headers: "Accept: application/jwk-set+json, application/json\r\n", limits: limits)
    }
}
