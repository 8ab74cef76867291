import Testing

@testable import GatewayCore

/// `discovery URL;`: what the refresher takes from an OIDC discovery document before it
/// fetches the JWKS it names.
@Suite("OIDC discovery")
struct JWKSDiscoveryTests {
    static let source = JWKSKeySource(
        url: try! JWKSURL.parse("https://idp.test/realms/a/.well-known/openid-configuration"), issuer: "https://idp.test/realms/a",
        isDiscovery: true, settings: JWKSRefreshPolicy.Settings(), clock: { 0 })

    func read(_ json: String) -> Result<JWKSURL, JWKSFetchError> {
        JWKSRefresher.jwksURL(discovery: Array(json.utf8), of: Self.source)
    }

    @Test func theJWKSURLOfTheConfiguredIssuer() {
        let result = read(#"{"issuer":"https://idp.test/realms/a","jwks_uri":"https://idp.test/realms/a/certs","token_endpoint":"x"}"#)
        #expect((try? result.get())?.description == "https://idp.test/realms/a/certs")
    }

    @Test(arguments: [
        (#"{"issuer":"https://evil.test/realms/a","jwks_uri":"https://evil.test/certs"}"#, "is not the configured"),
        (#"{"issuer":"https://idp.test/realms/a/","jwks_uri":"https://idp.test/certs"}"#, "is not the configured"),
        (#"{"issuer":"https://idp.test/realms/a","jwks_uri":"http://idp.test/certs"}"#, "is not https"),
        (#"{"issuer":"https://idp.test/realms/a"}"#, "no jwks_uri"),
        (#"{"jwks_uri":"https://idp.test/certs"}"#, "no issuer"),
        (#"{"issuer":"https://idp.test/realms/a","jwks_uri":"ftp://idp.test/certs"}"#, "jwks_uri"),
        ("<html>", "not a JSON object"),
    ])
    func documentsThatAreRefused(_ json: String, _ message: String) {
        guard case .failure(let error) = read(json) else { Issue.record("accepted \(json)"); return }
        #expect(error.message.contains(message), "\(error)")
    }
}
