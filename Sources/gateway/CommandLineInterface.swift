import GatewayCore
import GatewayCrypto
import GatewayServer
import GatewayStore
import GatewaySupport
import GatewaySystem
import Glibc

/// Exit codes (SPEC §2).
enum ExitCode {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 2
}

/// Dispatches `gateway <command> [options]`.
enum CommandLineInterface {
    static let version = BuildInfo.version

    static let usage = """
        usage: gateway <command> [options]

        commands:
          serve          run the gateway (--config PATH)
          demo           start a demo upstream and gateway on loopback
          check-config   validate a configuration file (--config PATH)
          explain        what the gateway would do with a request (route, credential, rules, limit)
          keys           create, list, show, revoke, rotate and import API keys
          token issue    mint a JWT with the configured signing key (tokens block)
          jwks           print the public JWKS of the configured signing keys
          audit          list the audit trail (admin changes, tokens, failed authentications)
          version        print version and linked library versions

        The configuration is read from --config PATH, else $GATEWAY_CONFIG, else ./gateway.conf.
        Run `gateway <command> --help` for a command's options.
        """

    static func run(_ arguments: [String]) -> Int32 {
        guard let command = arguments.first else {
            printError(usage)
            return ExitCode.usage
        }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "serve": return serve(rest)
        case "check-config": return checkConfig(rest)
        case "demo": return Demo.run(rest)
        case "version", "--version": return printVersion(rest)
        case "help", "--help", "-h":
            print(usage)
            return ExitCode.success
        case "explain": return ExplainCommand.run(rest)
        case "keys": return KeysCommand.run(rest)
        case "token": return TokenCommand.issue(rest)
        case "jwks": return TokenCommand.jwks(rest)
        case "audit": return AuditCommand.run(rest)
        default:
            printError("gateway: unknown command \"\(command)\" (see gateway --help)")
            return ExitCode.usage
        }
    }

    // MARK: Commands

    static func serve(_ arguments: [String]) -> Int32 {
        let help = """
            usage: gateway serve [--config PATH] [--ready-file PATH]

            Runs the gateway until SIGTERM/SIGINT (graceful drain). SIGHUP reloads the configuration.

              --ready-file PATH   once every listener is bound, write the addresses actually bound
                                  (port 0 resolved) to PATH, one `listen ADDR` or `admin_listen ADDR`
                                  line each; the file appears whole (written, then renamed)
            """
        guard let options = Options(arguments, valueFlags: ["--config", "--ready-file"], help: help) else { return ExitCode.usage }
        if options.helpRequested { print(help); return ExitCode.success }
        guard let (path, environment, loaded) = loadCompiled(options) else { return ExitCode.usage }
        let logger = Logger(level: .info)
        for warning in loaded.warnings { logger.warning("configuration warning", [("warning", warning.description)]) }
        do {
            let server = GatewayServer(loaded: loaded, configPath: path, environment: environment, logger: logger)
            let readyFile = options.values["--ready-file"]
            let hasAdmin = loaded.config.adminListen != nil
            return try server.run { addresses in
                guard let readyFile else { return }
                let lines = addresses.enumerated().map { index, address in
                    (hasAdmin && index == addresses.count - 1 ? "admin_listen " : "listen ") + address + "\n"
                }
                if !writeFileAtomically(readyFile, lines.joined()) {
                    logger.warning("ready file not written", [("path", readyFile), ("errno", "\(errno)")])
                }
            }
        } catch {
            printError("gateway: \(error)")
            return ExitCode.failure
        }
    }

    static func checkConfig(_ arguments: [String]) -> Int32 {
        let help = "usage: gateway check-config [--config PATH]\n\nValidates the configuration; prints file:line:col: message per problem; exit 0 when valid, 2 when not."
        guard let options = Options(arguments, valueFlags: ["--config"], help: help) else { return ExitCode.usage }
        if options.helpRequested { print(help); return ExitCode.success }
        guard let (path, _, loaded) = loadCompiled(options) else { return ExitCode.usage }
        for warning in loaded.warnings {
            printError("\(warning.location): warning: \(warning.message)")
        }
        print("\(path): configuration is valid (\(loaded.config.routes.count) routes, \(loaded.config.upstreams.count) upstreams)")
        return ExitCode.success
    }

    static func printVersion(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print("usage: gateway version\n\nPrints the gateway version and the linked OpenSSL and SQLite versions.")
            return ExitCode.success
        }
        guard arguments.isEmpty else {
            printError("gateway version: unexpected argument \"\(arguments[0])\"")
            return ExitCode.usage
        }
        print("gateway \(version)")
        print("\(CryptoLibrary.version)")
        print("SQLite \(StoreLibrary.version)")
        return ExitCode.success
    }

    // MARK: Helpers

    static func configPath(_ options: Options, _ environment: [String: String]) -> String {
        options.values["--config"] ?? environment["GATEWAY_CONFIG"] ?? "./gateway.conf"
    }

    /// The configuration the options name, parsed and compiled (keys built); see `loadConfiguration`.
    static func loadCompiled(_ options: Options) -> (path: String, environment: [String: String], loaded: LoadedConfig)? {
        loadConfiguration(options) { path, environment throws(ConfigError) in try LoadedConfig.load(path: path, environment: environment) }
    }

    /// The configuration the options name, parsed and validated only; see `loadConfiguration`.
    static func loadParsed(_ options: Options) -> (path: String, environment: [String: String], loaded: GatewayConfig)? {
        loadConfiguration(options) { path, environment throws(ConfigError) in try ConfigLoader.load(path: path, environment: environment) }
    }

    /// Loads the configuration the options name with `load`, printing every problem as
    /// `file:line:col: message`. - Returns: nil after a problem.
    private static func loadConfiguration<Loaded>(
        _ options: Options, _ load: (String, [String: String]) throws(ConfigError) -> Loaded
    ) -> (path: String, environment: [String: String], loaded: Loaded)? {
        let environment = Environment.current()
        let path = configPath(options, environment)
        do {
            return (path, environment, try load(path, environment))
        } catch {
            for diagnostic in error.diagnostics { printError(diagnostic.description) }
            return nil
        }
    }

    /// Writes `text` to `path` through a temporary file and a rename, so a reader never sees
    /// it half written. - Returns: false when a step failed.
    static func writeFileAtomically(_ path: String, _ text: String) -> Bool {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return written == bytes.count && rename(temporary, path) == 0
    }

    static func printError(_ text: String) {
        LogSink.standardError.write(text.hasSuffix("\n") ? text : text + "\n")
    }
}

/// Parsed `--flag value` options; unknown flags and stray arguments are usage errors.
struct Options {
    var values: [String: String] = [:]
    var helpRequested = false

    /// `a,b, c` → `["a", "b", "c"]`; nil or empty → `[]`.
    static func commaList(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { String($0).trimmingPrefix(" ").description }.filter { !$0.isEmpty }
    }

    init?(_ arguments: [String], valueFlags: Set<String>, help: String) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--help" || argument == "-h" {
                helpRequested = true
            } else if let equals = argument.firstIndex(of: "="), valueFlags.contains(String(argument[..<equals])) {
                values[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
            } else if valueFlags.contains(argument) {
                guard index + 1 < arguments.count else {
                    CommandLineInterface.printError("gateway: \(argument) needs a value")
                    return nil
                }
                values[argument] = arguments[index + 1]
                index += 1
            } else {
                CommandLineInterface.printError("gateway: unexpected argument \"\(argument)\"")
                return nil
            }
            index += 1
        }
    }
}

/// The process environment as a dictionary (for `env:` secrets and `$GATEWAY_CONFIG`).
enum Environment {
    static func current() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
