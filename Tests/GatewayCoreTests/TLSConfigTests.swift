import GatewaySupport
import GatewayTLS
import Testing

@testable import GatewayCore

/// The TLS grammar (issue 11): `listen … tls { … }`, HTTPS upstreams, `mtls`, `discovery`,
/// `introspection`. Files are named, not read: the validator only resolves paths (OpenSSL
/// loads them when the configuration is compiled).
@Suite("Config validation: TLS, mTLS, discovery, introspection")
struct TLSConfigTests {
    @Test func tlsListenerCertificatesPairInOrder() throws {
        let config = try loadConfig("""
            listen 127.0.0.1:8443 tls {
                certificate file:/etc/a.crt; key file:/etc/a.key;
                certificate /etc/b.crt; key /etc/b.key;
                client_ca file:/etc/ca.pem; client_certificate optional;
            }
            route /x { public; respond 200 "x"; }
            """)
        let tls = try #require(config.listen.first?.tls)
        #expect(tls.certificates == [.init(chainFile: "/etc/a.crt", keyFile: "/etc/a.key"), .init(chainFile: "/etc/b.crt", keyFile: "/etc/b.key")])
        #expect(tls.clientCAFile == "/etc/ca.pem" && tls.clientCertificates == .optional)
        // Reload compares addresses only: the certificates may change without a restart.
        #expect(config.listen[0].endpoint == ListenAddress(host: "127.0.0.1", port: 8443))
    }

    @Test func ocspResponseBelongsToTheCertificateBeforeIt() throws {
        let config = try loadConfig("""
            listen 127.0.0.1:8443 tls {
                certificate a.crt; key a.key;
                certificate b.crt; key b.key; ocsp_response file:b.ocsp;
            }
            route /x { public; respond 200 "x"; }
            """)
        let certificates = try #require(config.listen.first?.tls?.certificates)
        #expect(certificates.map(\.ocspResponseFile) == [nil, "b.ocsp"])
    }

    @Test func relativeFilesResolveAgainstTheConfigDirectory() throws {
        let config = try loadConfig("listen 127.0.0.1:1 tls { certificate tls/a.crt; key tls/a.key; }\nroute /x { public; respond 200 \"x\"; }")
        #expect(config.listen[0].tls?.certificates.first?.chainFile == "tls/a.crt")
    }

    @Test(arguments: [
        ErrorCase("listen 127.0.0.1:1 tls { }", at: "1:1", "needs a certificate and its key"),
        ErrorCase("listen 127.0.0.1:1 tls { certificate a; }", at: "1:26", "certificate without its key"),
        ErrorCase("listen 127.0.0.1:1 tls { key a; }", at: "1:26", "key without a certificate before it"),
        ErrorCase("listen 127.0.0.1:1 tls { certificate a; certificate b; key c; }", at: "1:26", "certificate without its key"),
        ErrorCase("listen 127.0.0.1:1 tls { certificate a; key b; client_certificate required; }", at: "1:1", "needs client_ca"),
        ErrorCase("listen 127.0.0.1:1 tls { certificate a; key b; client_certificate yes; }", at: "1:67", "off, optional or required"),
        ErrorCase("listen 127.0.0.1:1 tls { certificate a; key b; protocols TLSv1; }", at: "1:48", "unknown directive \"protocols\" inside \"tls\""),
        ErrorCase("listen 127.0.0.1:1 tls { certificate file:; key b; }", at: "1:38", "file: needs a path"),
        ErrorCase("listen 127.0.0.1:1 tls { ocsp_response o; certificate a; key b; }", at: "1:26", "ocsp_response belongs after a certificate and its key"),
        ErrorCase("listen 127.0.0.1:1 tls { certificate a; ocsp_response o; key b; }", at: "1:41", "ocsp_response belongs after a certificate and its key"),
        ErrorCase("listen 127.0.0.1:1 tls { certificate a; key b; ocsp_response o; ocsp_response p; }", at: "1:65", "already has an ocsp_response"),
        ErrorCase("listen 127.0.0.1:1 tls { certificate a; key b; ocsp_response; }", at: "1:48", "ocsp_response"),
    ])
    func badListenerBlock(_ item: ErrorCase) {
        expectSingleError(ErrorCase(item.text + "\nroute /x { public; respond 200 \"x\"; }", at: item.at, item.message))
    }

    @Test func httpsUpstreamServersAndSettings() throws {
        let config = try loadConfig("""
            upstream a { server https://127.0.0.1:443; server http://127.0.0.1:80; ca file:/ca.pem; tls_server_name api.internal; }
            upstream b { server 127.0.0.1:1; server 127.0.0.1:2; tls on; tls_certificate c.pem; tls_key k.pem; }
            upstream c { server 127.0.0.1:3; }
            route /a { public; upstream a; }
            route /b { public; upstream b; }
            route /c { public; upstream c; }
            """)
        let (a, b, c) = (config.upstreams[0], config.upstreams[1], config.upstreams[2])
        #expect(a.servers.map(\.tls) == [true, false])
        #expect(a.tls?.client.caFile == "/ca.pem" && a.tls?.serverName == "api.internal" && a.tls?.client.verify == true)
        #expect(b.servers.allSatisfy(\.tls) && b.tls?.client.certificate == .init(chainFile: "c.pem", keyFile: "k.pem"))
        #expect(c.tls == nil && !c.servers[0].tls)
    }

    @Test(arguments: [
        ErrorCase("upstream u { server 127.0.0.1:1; ca /ca.pem; }", at: "1:34", "TLS settings need https:// servers or \"tls on;\""),
        ErrorCase("upstream u { server https://127.0.0.1:1; tls_key k.pem; }", at: "1:42", "tls_key needs tls_certificate"),
        ErrorCase("upstream u { server https://127.0.0.1:1; tls maybe; }", at: "1:46", "tls is on or off"),
        ErrorCase("upstream u { server https://127.0.0.1:1; tls_server_name -bad-; }", at: "1:58", "must be a DNS name"),
        ErrorCase("upstream u { server https://example.com:1; }", at: "1:21", "invalid host \"example.com\""),
    ])
    func badUpstreamTLS(_ item: ErrorCase) {
        expectSingleError(ErrorCase(item.text + "\nroute /x { public; upstream u; }", at: item.at, item.message))
    }

    @Test func verificationOffWarns() throws {
        let loaded = try ConfigLoader.load(
            text: "upstream u { server https://127.0.0.1:1; tls_verify off; }\nroute /x { public; upstream u; }", fileName: "t.conf",
            environment: [:])
        #expect(loaded.upstreams[0].tls?.client.verify == false)
        #expect(loaded.warnings.contains { $0.message.contains("tls_verify off") })
    }

    @Test(arguments: [
        ("https://kc.test/realms/a/.well-known/openid-configuration", "https://kc.test/realms/a"),
        ("https://idp.test/.well-known/openid-configuration", "https://idp.test"),
        ("https://as.test/.well-known/oauth-authorization-server", "https://as.test"),
        ("https://as.test/.well-known/oauth-authorization-server/tenant1", "https://as.test/tenant1"),
        ("https://as.test:8443/t/.well-known/openid-configuration", "https://as.test:8443/t"),
    ])
    func discoveryURLNamesItsIssuer(_ url: String, _ issuer: String) throws {
        #expect(ConfigValidator.issuer(fromDiscovery: try JWKSURL.parse(url)) == issuer)
        let config = try loadConfig("jwt { discovery \(url); audience a; }\nroute /x { auth jwt; respond 200 \"x\"; }")
        #expect(config.jwt[0].issuer == issuer && config.jwt[0].jwksURLs[0].discovery)
    }

    @Test func anExplicitIssuerWins() throws {
        let config = try loadConfig(
            "jwt { issuer https://t.auth0.test/; discovery https://t.auth0.test/.well-known/openid-configuration; audience a; }\n"
                + "route /x { auth jwt; respond 200 \"x\"; }")
        #expect(config.jwt[0].issuer == "https://t.auth0.test/")
    }

    @Test func discoveryWithoutAWellKnownPathNeedsAnIssuer() {
        expectSingleError(ErrorCase(
            "jwt { discovery https://idp.test/config; audience a; }\nroute /x { public; respond 200 \"x\"; }", at: "1:7",
            "cannot tell the issuer"))
    }

    @Test func mtlsBlockAndRoute() throws {
        let config = try loadConfig("""
            listen 127.0.0.1:1 tls { certificate a; key b; client_ca c; client_certificate required; }
            roles { agent a:b; }
            mtls { claims user_id=san_uri,subject_cn email=san_email; roles agent; permissions x:y; }
            route /x { auth mtls; respond 200 "x"; }
            """)
        #expect(config.mtls.userID == [.sanURI, .subjectCN] && config.mtls.email == [.sanEmail])
        #expect(config.mtls.roles == ["agent"] && config.mtls.permissions == ["x:y"])
        #expect(config.routes[0].auth == .mtls)
    }

    @Test func mtlsRouteNeedsAListenerAskingForCertificates() {
        expectSingleError(ErrorCase(
            "listen 127.0.0.1:1 tls { certificate a; key b; }\nroute /x { auth mtls; respond 200 \"x\"; }", at: "2:1",
            "no tls listener has client_certificate"))
    }

    @Test func introspectionBlock() throws {
        let config = try loadConfig("""
            introspection { url https://as.test/introspect; client_id gw; client_secret env:S; cache 10s; negative_cache 2s; audience api; }
            route /x { auth introspection; respond 200 "x"; }
            """, environment: ["S": "a-long-enough-client-secret"])
        let introspection = try #require(config.introspection)
        #expect(introspection.url.host == "as.test" && introspection.clientID == "gw" && introspection.audiences == ["api"])
        #expect(introspection.cacheTTL == .seconds(10) && introspection.negativeTTL == .seconds(2))
        #expect(introspection.claims.userID == ["sub", "username", "client_id"])
    }

    /// An IdP or authorization server with a private CA (SPEC §5: "the system CA store … or a
    /// configured CA").
    @Test func keyAndIntrospectionFetchesMayNameTheirCA() throws {
        let config = try loadConfig("""
            jwt { discovery https://idp.test/.well-known/openid-configuration; ca file:/etc/idp-ca.pem; }
            introspection { url https://as.test/i; client_id gw; client_secret env:S; ca /etc/as-ca.pem; }
            route /x { respond 200 "x"; }
            """, environment: ["S": "a-long-enough-client-secret"])
        #expect(config.jwt.first?.caFile == "/etc/idp-ca.pem")
        #expect(config.introspection?.caFile == "/etc/as-ca.pem")
        expectSingleError(ErrorCase(
            "jwt { issuer https://i.test; jwks_url http://127.0.0.1:9/k; ca file:/etc/ca.pem; }\nroute /x { public; respond 200 \"x\"; }",
            at: "1:61", "\"ca\" needs an https"))
        expectSingleError(
            ErrorCase(
                "introspection { url http://127.0.0.1:9/i; client_id gw; client_secret env:S; ca c.pem; }\nroute /x { public; respond 200 \"x\"; }",
                at: "1:78", "\"ca\" needs an https \"url\""),
            environment: ["S": "a-long-enough-client-secret"])
    }

    @Test func aCAThatDoesNotLoadIsALoadError() {
        let text = "jwt { issuer https://i.test; jwks_url https://i.test/k; ca file:/nonexistent/ca.pem; }\nroute /x { respond 200 \"x\"; }"
        #expect(throws: ConfigError.self) { try LoadedConfig.load(text: text, fileName: "t.conf", environment: [:]) }
    }

    @Test func introspectionOverPlainHTTPOnlyOnLoopback() throws {
        _ = try loadConfig(
            "introspection { url http://127.0.0.1:9/i; client_id gw; client_secret env:S; }\nroute /x { respond 200 \"x\"; }",
            environment: ["S": "a-long-enough-client-secret"])
        expectSingleError(
            ErrorCase(
                "introspection { url http://as.test/i; client_id gw; client_secret env:S; }\nroute /x { public; respond 200 \"x\"; }",
                at: "1:21", "use https"),
            environment: ["S": "a-long-enough-client-secret"])
    }
}
