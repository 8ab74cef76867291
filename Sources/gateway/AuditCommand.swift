import GatewayCore
import GatewayStore
import GatewaySupport

/// `gateway audit` (SPEC §15): the audit trail from the configured store, newest first.
enum AuditCommand {
    static let help = """
        usage: gateway audit [--since 24h] [--principal ID] [--outcome success|denied] [--kind KIND]
                             [--limit 100] [--json] [--config PATH]

          Lists audit events newest first: admin changes, token issuance, refresh-token reuse,
          revocations, and failed authentications (aggregated per reason and client every 10 s).
          --since takes a duration back from now (30m, 24h, 7d). --json prints one object per line.
        """

    static func run(_ arguments: [String]) -> Int32 {
        var arguments = arguments
        let json = arguments.contains("--json")
        arguments.removeAll { $0 == "--json" }
        let flags: Set<String> = ["--config", "--since", "--principal", "--outcome", "--kind", "--limit"]
        guard let options = Options(arguments, valueFlags: flags, help: help) else { return ExitCode.usage }
        if options.helpRequested { print(help); return ExitCode.success }
        guard let filter = filter(options) else { return ExitCode.usage }
        guard let (path, _, config) = CommandLineInterface.loadParsed(options) else { return ExitCode.usage }
        guard let storePath = config.storePath else {
            CommandLineInterface.printError("gateway audit: \(path) configures no store (`store sqlite PATH;`)")
            return ExitCode.usage
        }
        do {
            let store = try KeyStore(path: storePath)
            defer { store.close() }
            for event in try store.auditEvents(filter) {
                print(json ? String(decoding: event.json(), as: UTF8.self) : describe(event))
            }
            return ExitCode.success
        } catch {
            CommandLineInterface.printError("gateway audit: \(error)")
            return ExitCode.failure
        }
    }

    private static func filter(_ options: Options) -> AuditFilter? {
        var filter = AuditFilter()
        filter.principalID = options.values["--principal"]
        filter.outcome = options.values["--outcome"]
        filter.kind = options.values["--kind"]
        if let since = options.values["--since"] {
            guard let duration = try? ConfigValue.duration(since) else {
                CommandLineInterface.printError("gateway audit: --since \"\(since)\" is not a duration (e.g. 24h)")
                return nil
            }
            filter.since = WallClock.now() - Int(duration.components.seconds)
        }
        if let limit = options.values["--limit"] {
            guard let value = Int(limit), (1...1000).contains(value) else {
                CommandLineInterface.printError("gateway audit: --limit is 1 to 1000")
                return nil
            }
            filter.limit = value
        }
        return filter
    }

    private static func describe(_ event: AuditEvent) -> String {
        var line = "\(WallClock.isoDate(event.time))  \(event.kind)  \(event.outcome)"
        if let principal = event.principalID { line += "  principal=\(principal)" }
        if let key = event.keyID { line += "  key=\(key)" }
        if let actor = event.actor { line += "  actor=\(actor)" }
        if event.count > 1 { line += "  count=\(event.count)" }
        if !event.detail.isEmpty { line += "  \(event.detail)" }
        return line
    }
}
