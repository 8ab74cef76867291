import GatewayCore
import GatewayServer
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
        for port in [requestedPort, 0] {
            let text = configuration(port: port, echoPort: echoPort)
            let loaded: LoadedConfig
            do {
                loaded = try LoadedConfig.load(text: text, fileName: "<demo>", environment: [:])
            } catch {
                CommandLineInterface.printError("gateway demo: built-in configuration is invalid: \(error)")
                return ExitCode.failure
            }
            let server = GatewayServer(loaded: loaded, configPath: nil, environment: [:], logger: Logger(level: .info))
            do {
                return try server.run { addresses in printTour(gateway: addresses.first ?? "127.0.0.1:8080") }
            } catch {
                if port == 0 { CommandLineInterface.printError("gateway demo: \(error)"); return ExitCode.failure }
                // Port taken: try a free one.
            }
        }
        return ExitCode.failure
    }

    static func configuration(port: UInt16, echoPort: UInt16) -> String {
        """
        # gateway demo configuration (built in)
        listen 127.0.0.1:\(port);
        workers 1;
        access_log stdout;
        upstream echo { server 127.0.0.1:\(echoPort); keepalive 16; }
        route /healthz { public; respond 200 "ok"; }
        route /api/** { public; upstream echo; }
        route /api/admin/** { deny; }
        """
    }

    static func printTour(gateway: String) {
        print("""

            gateway demo: an echo upstream behind the gateway at http://\(gateway)
            (authentication arrives with API keys and JWTs in the next releases; every route here is public)

            Try:
              curl -i http://\(gateway)/healthz
              curl -i http://\(gateway)/api/v1/sessions/42?verbose=1          # forwarded: the echo shows what the upstream saw
              curl -i -H 'X-Auth-User-Id: spoofed' http://\(gateway)/api/whoami  # spoofed identity headers are stripped
              curl -i http://\(gateway)/api/admin/keys                       # 403 access_denied (deny route)
              curl -i http://\(gateway)/nowhere                              # 404 route_not_found
              curl -i --path-as-is http://\(gateway)/api/../../etc/passwd      # 400 invalid_request

            Press Ctrl-C to stop.

            """)
        fflush(nil)   // flushes every output stream (stdout is a file or pipe under supervision)
    }
}
