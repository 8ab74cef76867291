import GatewayCore
import GatewayCrypto
import GatewayServer
import GatewayStore
import GatewaySupport
import GatewaySystem
import Glibc

/// `gateway demo`: an echo upstream and a gateway on loopback with a built-in configuration,
/// plus ready-to-paste curl commands. Serves until Ctrl-C.
enum Demo {
    static func run(_ arguments: [String]) -> Int32 {
        let help = "usage: gateway demo\n\nStarts a built-in echo upstream and a gateway on 127.0.0.1 (port 8080, or a free port when taken), prints curl commands, and serves until Ctrl-C."
        guard let options = Options(arguments, valueFlags: ["--port"], help: help) else { return ExitCode.usage }
        if options.helpRequested { print(help); return ExitCode.success }
        let echoPort: UInt16
        do {
            echoPort = try EchoUpstream.start()
        } catch {
            CommandLineInterface.printError("gateway demo: \(error.description)")
            return ExitCode.failure
        }
        let requestedPort = options.values["--port"].flatMap { UInt16($0) } ?? 8080
        // A temporary key store with one demo key (removed with the temp directory by the OS).
        var template = Array("/tmp/gateway-demo-XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) }) else {
            CommandLineInterface.printError("gateway demo: cannot create a temporary directory")
            return ExitCode.failure
        }
        let storePath = dir + "/demo.db"
        let demoKey: String
        do {
            let store = try KeyStore(path: storePath)
            defer { store.close() }
            demoKey = try store.createKey(
                name: "demo-agent", principal: "demo-user", permissions: ["memory:read", "session:read"],
                roles: ["reader"], orgID: "demo-org", prefix: "gw_").fullKey
        } catch {
            CommandLineInterface.printError("gateway demo: \(error)")
            return ExitCode.failure
        }
        // A fresh signing secret for this run only: the demo's JWTs die with it.
        let environment = ["GATEWAY_DEMO_SIGNING_SECRET": Base64URL.encode(SecureRandom.bytes(32))]
        for port in [requestedPort, 0] {
            let text = configuration(port: port, echoPort: echoPort, storePath: storePath)
            let loaded: LoadedConfig
            let demoToken: String
            do {
                loaded = try LoadedConfig.load(text: text, fileName: "<demo>", environment: environment)
                guard let tokens = loaded.tokens else { throw ConfigError([]) }
                var claims = AccessTokenClaims(subject: "demo-user", lifetime: .seconds(3600))
                claims.permissions = ["memory:read", "session:read"]
                claims.orgID = "demo-org"
                demoToken = try tokens.accessToken(claims, now: Int64(WallClock.now()))
            } catch {
                CommandLineInterface.printError("gateway demo: built-in configuration is invalid: \(error)")
                return ExitCode.failure
            }
            let server = GatewayServer(loaded: loaded, configPath: nil, environment: environment, logger: Logger(level: .info))
            do {
                return try server.run { addresses in
                    printTour(gateway: addresses.first ?? "127.0.0.1:8080", key: demoKey, token: demoToken)
                }
            } catch {
                if port == 0 { CommandLineInterface.printError("gateway demo: \(error)"); return ExitCode.failure }
                // Port taken: try a free one.
            }
        }
        return ExitCode.failure
    }

    static func configuration(port: UInt16, echoPort: UInt16, storePath: String) -> String {
        """
        # gateway demo configuration (built in)
        listen 127.0.0.1:\(port);
        workers 1;
        access_log stdout;
        store sqlite "\(storePath)";
        api_keys { header X-API-Key; bearer on; prefix gw_; }
        tokens {
            signing_key demo HS256 env:GATEWAY_DEMO_SIGNING_SECRET;
            issuer gateway-demo;
            audience demo-api;
        }
        upstream echo { server 127.0.0.1:\(echoPort); keepalive 16; }
        route /healthz { public; respond 200 "ok"; }
        route /api/** { upstream echo; }
        route /api/public/** { public; upstream echo; }
        route /api/admin/** { deny; }
        roles { reader memory:read session:read; writer @reader session:create; }
        rate_limit 600/min burst=100;
        route /api/v1/sessions { methods POST; require session:create; upstream echo; }
        route /api/v1/orgs/{org}/** { match_claim org_id {org}; upstream echo; }
        route /api/v1/search/** { rate_limit 3/min; upstream echo; }
        """
    }

    static func printTour(gateway: String, key: String, token: String) {
        print("""

            gateway demo: an echo upstream behind the gateway at http://\(gateway)
            demo API key (user demo-user, org demo-org): \(key)

            Try:
              curl -i http://\(gateway)/api/v1/sessions/42                      # 401: no credential
              curl -i -H 'X-API-Key: \(key)' http://\(gateway)/api/v1/sessions/42
                                                                      # 200: the echo shows the identity the upstream saw
              curl -i -H 'Authorization: Bearer \(key)' -H 'X-Auth-User-Id: spoofed' http://\(gateway)/api/whoami
                                                                      # Bearer works too; the spoofed header is replaced
              curl -i -H 'Authorization: Bearer \(token)' http://\(gateway)/api/v1/memory
                                                                      # 200: a JWT signed by the gateway (gateway token issue)
              curl -i -H 'X-API-Key: gw_not_a_real_key' http://\(gateway)/api/v1/sessions/42   # 401 invalid_token
              curl -i -X POST -H 'X-API-Key: \(key)' http://\(gateway)/api/v1/sessions
                                                                      # 403 insufficient_scope: the key's role (reader) lacks session:create
              curl -i -H 'X-API-Key: \(key)' http://\(gateway)/api/v1/orgs/other-org/notes
                                                                      # 403 access_denied: the key belongs to demo-org
              curl -i -H 'X-API-Key: \(key)' http://\(gateway)/api/v1/search/q  # 3/min: the 4th within a minute is 429
              curl -i http://\(gateway)/api/public/hello                      # a public route: no key needed
              curl -i http://\(gateway)/api/admin/keys                        # 403 access_denied (deny route)
              curl -i --path-as-is http://\(gateway)/api/../../etc/passwd       # 400 invalid_request
            (The API-key -> JWT exchange, POST /_gateway/token, arrives with the token service.)

            Press Ctrl-C to stop.

            """)
        fflush(nil)   // flushes every output stream (stdout is a file or pipe under supervision)
    }
}
