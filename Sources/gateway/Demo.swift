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
        let adminKey: String
        do {
            let store = try KeyStore(path: storePath)
            defer { store.close() }
            demoKey = try store.createKey(
                name: "demo-agent", principal: "demo-user", permissions: ["memory:read", "session:read"],
                roles: ["reader"], orgID: "demo-org", prefix: "gw_").fullKey
            adminKey = try store.createKey(
                name: "demo-admin", principal: "demo-operator", permissions: ["admin:read", "admin:write"], prefix: "gw_").fullKey
        } catch {
            CommandLineInterface.printError("gateway demo: \(error)")
            return ExitCode.failure
        }
        // A fresh signing secret for this run only: the demo's tokens die with it.
        let environment = ["GATEWAY_DEMO_SIGNING_SECRET": Base64URL.encode(SecureRandom.bytes(32))]
        for port in [requestedPort, 0] {
            let text = configuration(port: port, echoPort: echoPort, storePath: storePath)
            let loaded: LoadedConfig
            do {
                loaded = try LoadedConfig.load(text: text, fileName: "<demo>", environment: environment)
            } catch {
                CommandLineInterface.printError("gateway demo: built-in configuration is invalid: \(error)")
                return ExitCode.failure
            }
            let server = GatewayServer(loaded: loaded, configPath: nil, environment: environment, logger: Logger(level: .info))
            do {
                return try server.run { addresses in
                    printTour(
                        gateway: addresses.first ?? "127.0.0.1:8080", admin: addresses.dropFirst().first ?? "", key: demoKey,
                        adminKey: adminKey)
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
        admin_listen 127.0.0.1:0;
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

    static func printTour(gateway: String, admin: String, key: String, adminKey: String) {
        let g = "http://\(gateway)"
        print("""

            gateway demo: an echo upstream behind the gateway at \(g) (admin API: http://\(admin))
            demo API key (user demo-user, org demo-org): \(key)
            demo admin key (admin:read, admin:write):    \(adminKey)

            Try:
              curl -i \(g)/api/v1/sessions/42                      # 401: no credential
              curl -i -H 'X-API-Key: \(key)' \(g)/api/v1/sessions/42
                                                                      # 200: the echo shows the identity the upstream saw
              curl -i -H 'Authorization: Bearer \(key)' -H 'X-Auth-User-Id: spoofed' \(g)/api/whoami
                                                                      # Bearer works too; the spoofed header is replaced
              curl -i -H 'X-API-Key: gw_not_a_real_key' \(g)/api/v1/sessions/42   # 401 invalid_token
              curl -i -X POST -H 'X-API-Key: \(key)' \(g)/api/v1/sessions
                                                                      # 403 insufficient_scope: the key's role (reader) lacks session:create
              curl -i -H 'X-API-Key: \(key)' \(g)/api/v1/orgs/other-org/notes
                                                                      # 403 access_denied: the key belongs to demo-org
              curl -i -H 'X-API-Key: \(key)' \(g)/api/v1/search/q  # 3/min: the 4th within a minute is 429
              curl -i \(g)/api/public/hello                      # a public route: no key needed
              curl -i --path-as-is \(g)/api/../../etc/passwd       # 400 invalid_request

            Token service: trade the key for a 5-minute JWT and a single-use refresh token.
              R=$(curl -s -X POST \(g)/_gateway/token -H 'X-API-Key: \(key)' -d grant_type=client_credentials -d scope=memory:read)
              ACCESS=$(echo "$R" | sed -E 's/.*"access_token":"([^"]+)".*/\\1/'); REFRESH=$(echo "$R" | sed -E 's/.*"refresh_token":"([^"]+)".*/\\1/')
              curl -i -H "Authorization: Bearer $ACCESS" \(g)/api/v1/memory     # 200 with the access token
              curl -s -X POST \(g)/_gateway/token -d grant_type=refresh_token -d refresh_token=$REFRESH
                                                                      # a new pair; the old refresh token is used up
              curl -s -X POST \(g)/_gateway/token -d grant_type=refresh_token -d refresh_token=$REFRESH
                                                                      # 400 invalid_grant: reuse detected, the whole family is revoked
              curl -s -X POST \(g)/_gateway/revoke -d token=$ACCESS; sleep 1
              curl -i -H "Authorization: Bearer $ACCESS" \(g)/api/v1/memory     # 401: revoked
              curl -s \(g)/.well-known/jwks.json; curl -s \(g)/.well-known/oauth-authorization-server

            Admin API (the admin key):
              curl -s -H 'X-API-Key: \(adminKey)' http://\(admin)/admin/keys
              curl -s -H 'X-API-Key: \(adminKey)' 'http://\(admin)/admin/audit?limit=5'

            Press Ctrl-C to stop.

            """)
        fflush(nil)   // flushes every output stream (stdout is a file or pipe under supervision)
    }
}
