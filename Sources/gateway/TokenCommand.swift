import GatewayCore
import GatewayCrypto
import GatewaySupport

/// `gateway token issue` and `gateway jwks` (SPEC §2): the gateway's own signing keys from the
/// `tokens` block, for operators and tests. Neither needs a running server.
enum TokenCommand {
    static let issueHelp = """
        usage: gateway token issue --sub ID [--permissions a,b] [--roles r1,r2] [--org ORG] [--ttl 1h] [--config PATH]

        Mints an access token (typ at+jwt) signed by the first signing_key of the tokens block and
        prints it. The gateway accepts it on protected routes; --ttl defaults to tokens.access_ttl.
        """
    static let jwksHelp = """
        usage: gateway jwks [--config PATH]

        Prints the public JWKS of the tokens block's asymmetric signing keys (HMAC secrets are never printed).
        """

    static func issue(_ arguments: [String]) -> Int32 {
        guard arguments.first == "issue" else {
            if arguments.first == "--help" || arguments.first == "-h" { print(issueHelp); return ExitCode.success }
            return usage(arguments.first.map { "token: unknown subcommand \"\($0)\"" } ?? "token needs a subcommand: issue")
        }
        let flags: Set<String> = ["--config", "--sub", "--permissions", "--roles", "--org", "--ttl"]
        guard let options = Options(Array(arguments.dropFirst()), valueFlags: flags, help: issueHelp) else { return ExitCode.usage }
        if options.helpRequested { print(issueHelp); return ExitCode.success }
        guard let subject = options.values["--sub"], !subject.isEmpty else { return usage("token issue needs --sub ID") }
        let permissions = Options.commaList(options.values["--permissions"])
        guard !permissions.contains(where: { $0.contains(" ") }) else { return usage("token issue: a permission cannot contain a space") }
        guard let issuer = issuer(options, command: "token issue") else { return ExitCode.usage }
        var claims = AccessTokenClaims(subject: subject, lifetime: issuer.accessTTL)
        claims.permissions = permissions
        claims.roles = Options.commaList(options.values["--roles"])
        claims.orgID = options.values["--org"]
        if let text = options.values["--ttl"] {
            guard let ttl = try? ConfigValue.duration(text), ttl > .zero else { return usage("token issue: --ttl \"\(text)\" is not a duration (e.g. 1h)") }
            claims.lifetime = ttl
        }
        do {
            print(try issuer.accessToken(claims, now: Int64(WallClock.now())))
            return ExitCode.success
        } catch {
            CommandLineInterface.printError("gateway token issue: \(error.message)")
            return ExitCode.failure
        }
    }

    static func jwks(_ arguments: [String]) -> Int32 {
        guard let options = Options(arguments, valueFlags: ["--config"], help: jwksHelp) else { return ExitCode.usage }
        if options.helpRequested { print(jwksHelp); return ExitCode.success }
        guard let issuer = issuer(options, command: "jwks") else { return ExitCode.usage }
        print(issuer.jwks())
        return ExitCode.success
    }

    /// The configuration's `tokens` block, compiled; nil after printing why there is none.
    private static func issuer(_ options: Options, command: String) -> TokenIssuer? {
        guard let (path, _, loaded) = CommandLineInterface.loadCompiled(options) else { return nil }
        guard let tokens = loaded.tokens else {
            CommandLineInterface.printError("gateway \(command): \(path) has no `tokens` block with a signing_key")
            return nil
        }
        return tokens
    }

    private static func usage(_ message: String) -> Int32 {
        CommandLineInterface.printError("gateway \(message) (see gateway token issue --help)")
        return ExitCode.usage
    }
}
