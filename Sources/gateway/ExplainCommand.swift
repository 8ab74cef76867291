import GatewayCore
import GatewayCrypto
import GatewayHTTP
import GatewayStore
import GatewaySupport

/// `gateway explain METHOD PATH [...]`: what the gateway would do with a request, from the same
/// access pipeline that serves, without a socket. For operators writing route rules: the
/// normalized path, the route and the routes it beat, the credential's result, every rule,
/// the rate limit, the decision and the identity headers the upstream would receive.
enum ExplainCommand {
    static let help = """
        usage: gateway explain METHOD PATH [--key KEY | --token JWT | --claims JSON]
                               [--header 'Name: value']... [--peer ADDR] [--json] [--config PATH]

        Runs the access decision for one request without serving it: the normalized path (or
        why it is refused), the route chosen and the other routes matching the path, the
        authentication result, each rule with its outcome, the rate limit, the final decision
        with its status and error code, and the identity headers the upstream would receive.

          --key KEY       an API key, sent in the configured api_keys header (looked up in the store)
          --token JWT     a bearer token, verified as when serving (jwks_url keys are not fetched)
          --claims JSON   a JWT payload; its signature is NOT checked (every other claim check is)
          --header H      another request header (repeatable)
          --peer ADDR     the client address (default 127.0.0.1; trust_proxies applies)
          --json          one JSON object instead of text

        Rate-limit buckets start full. Exit 0 when the request would be allowed, 1 when refused.
        """

    /// Parsed arguments.
    struct Request {
        var method = ""
        var target = ""
        var headers: [String] = []
        var key: String? = nil
        var token: String? = nil
        var claims: String? = nil
        var peer = "127.0.0.1"
        var json = false
        var config: String? = nil
    }

    static func run(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(help)
            return ExitCode.success
        }
        guard let request = parse(arguments) else { return ExitCode.usage }
        guard let flags = Options(request.config.map { ["--config", $0] } ?? [], valueFlags: ["--config"], help: help),
              let (_, _, parsed) = CommandLineInterface.loadParsed(flags) else { return ExitCode.usage }
        guard let peer = ConfigValue.ipAddress(request.peer[...]) else {
            return usage("--peer \"\(request.peer)\" is not an IP address")
        }
        var config = parsed
        var extraHeaders = request.headers
        if let claims = request.claims {
            guard let token = unsignedToken(claims, config: &config) else { return usage("--claims must be a JSON object") }
            extraHeaders.append("Authorization: Bearer \(token)")
        }
        if let token = request.token { extraHeaders.append("Authorization: Bearer \(token)") }
        if let key = request.key { extraHeaders.append("\(config.apiKeys?.header ?? "X-API-Key"): \(key)") }
        let loaded: LoadedConfig
        do {
            loaded = try LoadedConfig(config: config)
        } catch {
            for diagnostic in error.diagnostics { CommandLineInterface.printError(diagnostic.description) }
            return ExitCode.usage
        }
        // The store is read only when a key is to be checked (it also holds revoked `jti`s,
        // which explain otherwise does not consult).
        var keyIndex: APIKeyIndex? = nil
        if request.key != nil, let path = config.storePath {
            do throws(StoreError) {
                let store = try KeyStore(path: path)
                defer { store.close() }
                keyIndex = APIKeyIndex(snapshot: try store.loadIndexSnapshot())
            } catch {
                CommandLineInterface.printError("gateway explain: key store: \(error)")
                return ExitCode.failure
            }
        }
        let raw = "\(request.method) \(request.target) HTTP/1.1\r\nHost: explain\r\n"
            + extraHeaders.map { $0 + "\r\n" }.joined() + "\r\n"
        let report = explain(
            Array(raw.utf8), loaded: loaded, keyIndex: keyIndex, peer: peer, signatureSkipped: request.claims != nil)
        print(request.json ? report.json() : report.text())
        return report.allowed ? ExitCode.success : ExitCode.failure
    }

    /// Runs the pipeline over the raw request and gathers what it found.
    static func explain(
        _ raw: [UInt8], loaded: LoadedConfig, keyIndex: APIKeyIndex?, peer: [UInt8], signatureSkipped: Bool
    ) -> ExplainReport {
        var report = ExplainReport(signatureSkipped: signatureSkipped)
        var parser = RequestHeadParser()
        var head = RequestHead()
        return raw.withUnsafeBytes { bytes in
            do {
                guard try parser.parse(bytes, into: &head) else {
                    report.refusal = .badPath(.notAbsolute)
                    return report
                }
            } catch {
                report.parseError = "\(error)"
                return report
            }
            report.method = head.method.name
            let scratch = AccessScratch()
            scratch.useKeyIndex(keyIndex, generation: 0)
            if let problem = scratch.normalize(head.path, bytes) {
                report.refusal = .badPath(problem)
                return report
            }
            report.path = String(decoding: scratch.path, as: UTF8.self)
            report.otherRoutes = otherMatchingRoutes(loaded.config, path: scratch.routingPath, method: head.method)
            let pipeline = AccessPipeline(loaded: loaded, generation: 1, limiters: AccessLimiters())
            var state = AccessState()
            state.keyWaitOver = true   // explain fetches no keys: an unknown kid is final
            let trace = AccessTrace()
            let request = AccessRequest(
                method: head.method, query: head.query, headers: head.headers, bytes: bytes, peerAddress: peer,
                peerTrusted: loaded.config.trustProxies.contains { $0.contains(peer) })
            let clock = AccessClock(now: MonotonicClock.nowMilliseconds(), wallSecond: WallClock.now())
            let result = pipeline.decide(request, state: &state, scratch: scratch, clock: clock, trace: trace)
            report.record(result, trace: trace, loaded: loaded, scratch: scratch)
            if case .refuse(let reason) = result.verdict { report.refusal = reason }
            return report
        }
    }

    /// The routes whose pattern matches the path besides the one chosen (less specific ones, or
    /// ones for other methods), each compiled alone.
    private static func otherMatchingRoutes(_ config: GatewayConfig, path: [UInt8], method: HTTPMethod) -> [String] {
        var matching: [String] = []
        for route in config.routes {
            var single = config
            single.routes = [route]
            guard let table = try? RouteCompiler.compile(single) else { continue }
            var parameters: [RouteParameter] = []
            switch path.withUnsafeBytes({ table.lookup(path: $0, method: method, parameters: &parameters) }) {
            case .matched: matching.append(route.pattern)
            case .methodNotAllowed: matching.append("\(route.pattern) (other methods)")
            case .notFound: break
            }
        }
        return matching
    }

    /// `--claims`: a token carrying the claims, signed with a throwaway HS256 key that replaces
    /// every configured key for this run, so every check but the signature applies.
    private static func unsignedToken(_ claims: String, config: inout GatewayConfig) -> String? {
        guard case .success(let payload) = JSONParser.parse(Array(claims.utf8), maxBytes: 64 * 1024), payload.isObject else {
            return nil
        }
        let secret = SecureRandom.bytes(32)
        let kid = "explain-unsigned"
        for index in config.jwt.indices {
            let location = config.jwt[index].location
            config.jwt[index].keys = [JWTKeyConfig(kid: kid, algorithm: "HS256", material: Secret(secret), location: location)]
            config.jwt[index].jwksFiles = []
            config.jwt[index].jwksURLs = []
        }
        if let tokens = config.tokens {
            config.tokens?.signingKeys = [JWTKeyConfig(kid: kid, algorithm: "HS256", material: Secret(secret), location: tokens.location)]
        }
        let issuer = payload["iss"]?.stringValue
        let typ = issuer == config.tokens?.issuer
            ? TokenIssuer.accessTokenType : config.jwt.first { $0.issuer == issuer }?.requiredTyp
        var header = JSONObjectWriter()
        header.string("alg", "HS256")
        header.string("kid", kid)
        header.string("typ", typ)
        let input = Base64URL.encode(header.finished()) + "." + Base64URL.encode(Array(claims.utf8))
        guard let key = try? SigningKey(hmacSecret: secret, algorithm: .hs256),
              let signature = try? Array(input.utf8).withUnsafeBytes({ try key.sign($0) }) else { return nil }
        return input + "." + Base64URL.encode(signature)
    }

    private static func parse(_ arguments: [String]) -> Request? {
        var request = Request()
        var positional: [String] = []
        var index = 0
        let valueFlags: Set<String> = ["--key", "--token", "--claims", "--header", "--peer", "--config"]
        while index < arguments.count {
            let argument = arguments[index]
            if valueFlags.contains(argument) {
                guard index + 1 < arguments.count else {
                    _ = usage("\(argument) needs a value")
                    return nil
                }
                let value = arguments[index + 1]
                switch argument {
                case "--key": request.key = value
                case "--token": request.token = value
                case "--claims": request.claims = value
                case "--header": request.headers.append(value)
                case "--peer": request.peer = value
                default: request.config = value
                }
                index += 2
            } else if argument == "--json" {
                request.json = true
                index += 1
            } else if argument.hasPrefix("--") {
                _ = usage("unknown option \"\(argument)\"")
                return nil
            } else {
                positional.append(argument)
                index += 1
            }
        }
        guard positional.count == 2 else {
            _ = usage("needs METHOD and PATH")
            return nil
        }
        guard [request.key, request.token, request.claims].compactMap({ $0 }).count <= 1 else {
            _ = usage("give at most one of --key, --token and --claims")
            return nil
        }
        let forbidden = (request.headers + positional).contains { $0.contains("\r") || $0.contains("\n") }
        guard !forbidden else {
            _ = usage("arguments may not contain line breaks")
            return nil
        }
        request.method = positional[0]
        request.target = positional[1]
        return request
    }

    private static func usage(_ message: String) -> Int32 {
        CommandLineInterface.printError("gateway explain: \(message)")
        return ExitCode.usage
    }
}
