import GatewayCore
import GatewayStore
import GatewaySupport

/// `gateway keys create|list|show|revoke|rotate|import` (SPEC §2): key management against the
/// configured SQLite store, without a running server. A running gateway notices every change
/// within a second (it polls the store's change counter).
enum KeysCommand {
    static let help = """
        usage: gateway keys <create|list|show|revoke|rotate|import> [options] [--config PATH]

          create --name N [--principal ID] [--permissions a,b] [--roles r1,r2] [--rate-limit 100/min]
                 [--expires 30d] [--org ORG] [--json]      create a key; the key is printed once
          list [--json]                                     list keys (never secrets or hashes)
          show ID [--json]                                  one key
          revoke ID                                         deactivate a key at once
          rotate ID [--grace 24h] [--json]                  new key; the old one works for the grace period
          import --sha256 HEX --prefix ck_ --name N [--principal ID] [--permissions a,b] [--roles r1,r2]
                                                            import a legacy key by SHA-256 of the whole key
        """

    static func run(_ arguments: [String]) -> Int32 {
        guard let sub = arguments.first, !sub.hasPrefix("-") else {
            if arguments.contains("--help") || arguments.contains("-h") { print(help); return ExitCode.success }
            return usage("keys needs a subcommand: create, list, show, revoke, rotate or import")
        }
        var rest = Array(arguments.dropFirst())
        var positional: String? = nil
        if ["show", "revoke", "rotate"].contains(sub), let first = rest.first, !first.hasPrefix("-") {
            positional = first
            rest.removeFirst()
        }
        let flags: Set<String> = ["--config", "--name", "--principal", "--permissions", "--roles", "--rate-limit", "--expires",
                                  "--org", "--grace", "--sha256", "--prefix"]
        var arguments = rest
        let json = arguments.contains("--json")
        arguments.removeAll { $0 == "--json" }
        guard let options = Options(arguments, valueFlags: flags, help: help) else { return ExitCode.usage }
        if options.helpRequested { print(help); return ExitCode.success }

        // Parsed, not compiled: key management works even while a JWT key file is being replaced.
        guard let (path, _, config) = CommandLineInterface.loadParsed(options) else { return ExitCode.usage }
        guard let storePath = config.storePath else {
            CommandLineInterface.printError("gateway keys: \(path) configures no key store (`store sqlite PATH;`)")
            return ExitCode.usage
        }
        let prefix = config.apiKeys?.prefixes.first ?? APIKeysConfig().prefixes[0]
        do {
            let store = try KeyStore(path: storePath)
            defer { store.close() }
            switch sub {
            case "create": return try create(store, options, prefix: prefix, json: json)
            case "list": return try list(store, json: json)
            case "show":
                guard let id = positional else { return usage("keys show needs a key id") }
                guard let record = try store.key(id: id) else { return notFound(id) }
                print(json ? render(record) : describe(record))
            case "revoke":
                guard let id = positional else { return usage("keys revoke needs a key id") }
                guard try store.key(id: id) != nil else { return notFound(id) }
                let record = try store.revoke(id: id)
                print(json ? render(record) : "revoked \(record.id)")
            case "rotate":
                guard let id = positional else { return usage("keys rotate needs a key id") }
                guard try store.key(id: id) != nil else { return notFound(id) }
                var grace = 0
                if let text = options.values["--grace"] {
                    guard let duration = try? ConfigValue.duration(text) else { return usage("--grace: \"\(text)\" is not a duration") }
                    grace = Int(duration.components.seconds)
                }
                let (record, key) = try store.rotate(id: id, grace: grace)
                print(json ? render(record, key: key) : "key: \(key)\nid: \(record.id)\n(shown once: store it now; the old key \(id) stays valid for \(grace) s)")
            case "import": return try importLegacy(store, options, json: json)
            default: return usage("unknown keys command \"\(sub)\"")
            }
            return ExitCode.success
        } catch {
            CommandLineInterface.printError("gateway keys \(sub): \(error)")
            return ExitCode.failure
        }
    }

    private static func create(_ store: KeyStore, _ options: Options, prefix: String, json: Bool) throws(StoreError) -> Int32 {
        guard let name = options.values["--name"], !name.isEmpty else { return usage("keys create needs --name") }
        guard let fields = commonFields(options) else { return ExitCode.usage }
        let (record, key) = try store.createKey(
            name: name, principal: options.values["--principal"] ?? name, permissions: fields.permissions, roles: fields.roles,
            rateLimit: fields.rateLimit, expiresAt: fields.expiresAt, orgID: options.values["--org"], prefix: prefix)
        print(json ? render(record, key: key) : "key: \(key)\nid: \(record.id)\n(shown once: store it now)")
        return ExitCode.success
    }

    private static func importLegacy(_ store: KeyStore, _ options: Options, json: Bool) throws(StoreError) -> Int32 {
        guard let hex = options.values["--sha256"], let prefix = options.values["--prefix"], let name = options.values["--name"] else {
            return usage("keys import needs --sha256, --prefix and --name")
        }
        guard let fields = commonFields(options) else { return ExitCode.usage }
        let record = try store.importLegacy(
            sha256Hex: hex, prefix: prefix, name: name, principal: options.values["--principal"] ?? name,
            permissions: fields.permissions, roles: fields.roles, rateLimit: fields.rateLimit, expiresAt: fields.expiresAt,
            orgID: options.values["--org"])
        print(json ? render(record) : "imported \(record.id)")
        return ExitCode.success
    }

    private static func list(_ store: KeyStore, json: Bool) throws(StoreError) -> Int32 {
        let records = try store.listKeys()
        if json {
            print("[" + records.map { render($0) }.joined(separator: ",") + "]")
        } else {
            print("id            principal        name             active  expires_at   last_used_at")
            for r in records {
                print("\(pad(r.id, 14))\(pad(r.principalID, 17))\(pad(r.name, 17))\(pad(r.active ? "yes" : "no", 8))\(pad(r.expiresAt.map(String.init) ?? "-", 13))\(r.lastUsedAt.map(String.init) ?? "-")")
            }
        }
        return ExitCode.success
    }

    private struct Fields {
        var permissions: [String] = []
        var roles: [String] = []
        var rateLimit: String? = nil
        var expiresAt: Int? = nil
    }

    private static func commonFields(_ options: Options) -> Fields? {
        var fields = Fields()
        fields.permissions = Options.commaList(options.values["--permissions"])
        fields.roles = Options.commaList(options.values["--roles"])
        // The principal, org, permissions and roles travel in identity headers exactly as given
        // (SPEC §8); the gateway refuses a key whose identity no header can carry exactly.
        let principal = options.values["--principal"] ?? options.values["--name"] ?? ""
        let identity = Identity(
            userID: principal, orgID: options.values["--org"], permissions: fields.permissions, roles: fields.roles, method: .apiKey)
        guard identity.isRepresentableInHeaders else {
            CommandLineInterface.printError(
                "gateway keys: --principal, --org, --permissions and --roles may not hold control characters or "
                    + "leading/trailing whitespace, and a permission or role may not hold whitespace")
            return nil
        }
        if let rate = options.values["--rate-limit"] {
            guard (try? ConfigValue.rate(rate)) != nil else {
                CommandLineInterface.printError("gateway keys: --rate-limit \"\(rate)\" is not a rate (e.g. 100/min)")
                return nil
            }
            fields.rateLimit = rate
        }
        if let expires = options.values["--expires"] {
            guard let duration = try? ConfigValue.duration(expires) else {
                CommandLineInterface.printError("gateway keys: --expires \"\(expires)\" is not a duration (e.g. 30d)")
                return nil
            }
            fields.expiresAt = WallClock.now() + Int(duration.components.seconds)
        }
        return fields
    }

    /// One JSON object for a key (SPEC §2: at least id, key when new, principal, permissions,
    /// roles, rate_limit, expires_at). Never a hash or secret other than the new key itself.
    static func render(_ r: KeyRecord, key: String? = nil) -> String {
        String(decoding: r.json(key: key), as: UTF8.self)
    }

    private static func describe(_ r: KeyRecord) -> String {
        "id: \(r.id)\nname: \(r.name)\nprincipal: \(r.principalID)\npermissions: \(r.permissions.joined(separator: ","))\nroles: \(r.roles.joined(separator: ","))\nrate_limit: \(r.rateLimit ?? "-")\nactive: \(r.active)\nexpires_at: \(r.expiresAt.map(String.init) ?? "-")\nlast_used_at: \(r.lastUsedAt.map(String.init) ?? "-")"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private static func usage(_ message: String) -> Int32 {
        CommandLineInterface.printError("gateway \(message) (see gateway keys --help)")
        return ExitCode.usage
    }

    private static func notFound(_ id: String) -> Int32 {
        CommandLineInterface.printError("gateway keys: no key with id \"\(id)\"")
        return ExitCode.failure
    }
}
