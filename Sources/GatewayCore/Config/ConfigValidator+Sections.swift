import GatewayHTTP
import GatewaySupport
extension ConfigValidator {
    /// `limits { ... }`: every value must be positive (a zero limit or timeout is a typo, and
    /// nginx's "0 means unlimited" must not be silently read as "nothing allowed" or vice versa).
    mutating func limits(_ block: [ConfigDirective]) -> LimitsConfig {
        var limits = LimitsConfig()
        var seen: [String: SourceLocation] = [:]
        for directive in block {
            guard Context.limits.supported.contains(directive.name) else {
                reject(directive, in: .limits)
                continue
            }
            guard once(directive, &seen), shape(directive, arguments: 1...1) else { continue }
            let argument = directive.arguments[0]
            switch directive.name {
            case "max_head":
                if let value = positiveSize(argument) { limits.maxHeadBytes = value }
            case "max_headers":
                if let value = parse(argument, { text throws(ConfigValueError) in try ConfigValue.integer(text, in: 1...10_000) }) {
                    limits.maxHeaders = value
                }
            case "max_body":
                if let value = positiveSize(argument) { limits.maxBodyBytes = Int64(value) }
            case "max_token":
                if let value = positiveSize(argument) { limits.maxTokenBytes = value }
            case "head_timeout":
                if let value = positiveDuration(argument) { limits.headTimeout = value }
            case "idle_timeout":
                if let value = positiveDuration(argument) { limits.idleTimeout = value }
            case "drain_timeout":
                if let value = positiveDuration(argument) { limits.drainTimeout = value }
            case "send_timeout":
                if let value = positiveDuration(argument) { limits.sendTimeout = value }
            case "body_timeout":
                if let value = positiveDuration(argument) { limits.bodyTimeout = value }
            case "tunnel_idle_timeout":
                if let value = positiveDuration(argument) { limits.tunnelIdleTimeout = value }
            case "max_connections":
                if let value = parse(argument, { text throws(ConfigValueError) in try ConfigValue.integer(text, in: 1...1_000_000) }) {
                    limits.maxConnections = value
                }
            default:
                preconditionFailure("supported limits directive \(directive.name) not handled")
            }
        }
        return limits
    }

    /// `upstream NAME { server ...; keepalive N; connect_timeout D; read_timeout D; send_timeout D;
    /// tunnel_idle_timeout D; }`.
    /// - Returns: nil after reporting when the block is unusable.
    mutating func upstream(_ directive: ConfigDirective) -> UpstreamConfig? {
        let name = directive.arguments[0]
        var valid = true
        if !ConfigValidator.isName(name.text) {
            error(name.location, "invalid upstream name \"\(name.text)\"; use letters, digits, \"_\", \"-\" and \".\"")
            valid = false
        }
        var upstream = UpstreamConfig(name: name.text, servers: [], location: directive.location)
        var seen: [String: SourceLocation] = [:]
        var sawServer = false
        var servers: [String: SourceLocation] = [:]
        var tls = UpstreamTLSLines()
        for child in directive.block ?? [] {
            switch child.name {
            case "tls", "ca", "tls_verify", "tls_server_name", "tls_certificate", "tls_key":
                valid = upstreamTLSLine(child, &tls, &seen) && valid
            case "server":
                sawServer = true
                guard shape(child, arguments: 1...3) else {
                    valid = false
                    continue
                }
                guard let server = server(child) else {
                    valid = false
                    continue
                }
                let key = ListenAddress(host: server.host, port: server.port).description
                if let first = servers[key] {
                    error(child.arguments[0].location, "duplicate server \(key) (first at \(first))")
                    valid = false
                    continue
                }
                servers[key] = child.arguments[0].location
                upstream.servers.append(server)
            case "keepalive":
                guard once(child, &seen), shape(child, arguments: 1...1) else { continue }
                if let value = parse(child.arguments[0], { text throws(ConfigValueError) in
                    try ConfigValue.integer(text, in: 0...10_000)
                }) {
                    upstream.keepalive = value
                }
            case "connect_timeout":
                guard once(child, &seen), shape(child, arguments: 1...1) else { continue }
                if let value = positiveDuration(child.arguments[0]) { upstream.connectTimeout = value }
            case "read_timeout":
                guard once(child, &seen), shape(child, arguments: 1...1) else { continue }
                if let value = positiveDuration(child.arguments[0]) { upstream.readTimeout = value }
            case "send_timeout":
                guard once(child, &seen), shape(child, arguments: 1...1) else { continue }
                if let value = positiveDuration(child.arguments[0]) { upstream.sendTimeout = value }
            case "tunnel_idle_timeout":
                guard once(child, &seen), shape(child, arguments: 1...1) else { continue }
                if let value = positiveDuration(child.arguments[0]) { upstream.tunnelIdleTimeout = value }
            default:
                reject(child, in: .upstream)
            }
        }
        if !sawServer {
            error(directive.location, "upstream \"\(name.text)\" needs at least one \"server\"")
            valid = false
        }
        valid = finishUpstreamTLS(&upstream, tls, at: directive.location) && valid
        return valid ? upstream : nil
    }

    /// `server [http://|https://]HOST:PORT [max_fails=N] [fail_timeout=D];`
    private mutating func server(_ directive: ConfigDirective) -> UpstreamServerConfig? {
        var text = directive.arguments[0].text
        let isTLS = text.hasPrefix("https://")
        if isTLS { text.removeFirst(8) } else if text.hasPrefix("http://") { text.removeFirst(7) }
        guard let (host, port) = parse(ConfigArgument(text: text, location: directive.arguments[0].location), { text throws(ConfigValueError) in
            try ConfigValue.hostPort(text, allowPortZero: false)
        }) else { return nil }
        var server = UpstreamServerConfig(host: host, port: port)
        server.tls = isTLS
        var options: Set<Substring> = []
        var valid = true
        for option in directive.arguments.dropFirst() {
            let parts = option.text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts[0]
            guard parts.count == 2, key == "max_fails" || key == "fail_timeout" else {
                error(option.location, "unknown server option \"\(option.text)\"; expected max_fails=N or fail_timeout=DURATION")
                valid = false
                continue
            }
            guard options.insert(key).inserted else {
                error(option.location, "duplicate server option \"\(key)\"")
                valid = false
                continue
            }
            let value = String(parts[1])
            if key == "max_fails" {
                do {
                    server.maxFails = try ConfigValue.integer(value, in: 1...1000)
                } catch {
                    self.error(option.location, "max_fails: \(error.message)")
                    valid = false
                }
            } else {
                do throws(ConfigValueError) {
                    let duration = try ConfigValue.duration(value)
                    guard duration > .zero else { throw ConfigValueError("must be greater than 0") }
                    server.failTimeout = duration
                } catch {
                    self.error(option.location, "fail_timeout: \(error.message)")
                    valid = false
                }
            }
        }
        return valid ? server : nil
    }

    /// A size of at least one byte.
    mutating func positiveSize(_ argument: ConfigArgument) -> Int? {
        parse(argument) { text throws(ConfigValueError) in
            let size = try ConfigValue.size(text)
            guard size > 0 else { throw ConfigValueError("size must be greater than 0") }
            return size
        }
    }

    /// A duration longer than zero.
    mutating func positiveDuration(_ argument: ConfigArgument) -> Duration? {
        parse(argument) { text throws(ConfigValueError) in
            let duration = try ConfigValue.duration(text)
            guard duration > .zero else { throw ConfigValueError("duration must be greater than 0") }
            return duration
        }
    }

    /// Letters, digits, `_`, `-`, `.`: names that print unambiguously in logs and metrics.
    static func isName(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            }
    }
}

extension ConfigValidator {
    /// `api_keys { header NAME; bearer on|off; prefix P...; legacy_prefix P...; }`.
    mutating func apiKeys(_ block: [ConfigDirective]) -> APIKeysConfig {
        var result = APIKeysConfig()
        var seen: [String: SourceLocation] = [:]
        for directive in block {
            switch directive.name {
            case "header":
                guard once(directive, &seen), shape(directive, arguments: 1...1) else { continue }
                let name = directive.arguments[0]
                guard !name.text.isEmpty, name.text.utf8.allSatisfy(HTTPBytes.isTChar) else {
                    error(name.location, "\"\(name.text)\" is not a valid header name")
                    continue
                }
                let lower = name.text.lowercased()
                guard lower != "authorization", !lower.hasPrefix("x-auth-"), !lower.hasPrefix("x_auth_") else {
                    error(name.location, "the API-key header cannot be Authorization or an identity (X-Auth-*) header")
                    continue
                }
                result.header = name.text
            case "bearer":
                guard once(directive, &seen), shape(directive, arguments: 1...1), let flag = onOff(directive.arguments[0]) else { continue }
                result.bearer = flag
            case "prefix", "legacy_prefix":
                guard once(directive, &seen), shape(directive, arguments: 1...Int.max) else { continue }
                var prefixes: [String] = []
                for argument in directive.arguments {
                    let bytes = Array(argument.text.utf8)
                    guard !bytes.isEmpty, bytes.count <= 32, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                        error(argument.location, "key prefix \"\(argument.text)\" must be 1 to 32 visible ASCII characters")
                        continue
                    }
                    prefixes.append(argument.text)
                }
                if directive.name == "prefix" { result.prefixes = prefixes } else { result.legacyPrefixes = prefixes }
            default:
                reject(directive, in: .apiKeys)
            }
        }
        return result
    }

    /// `on` or `off`. - Returns: nil after reporting anything else.
    mutating func onOff(_ argument: ConfigArgument) -> Bool? {
        switch argument.text {
        case "on": return true
        case "off": return false
        default:
            error(argument.location, "expected on or off, got \"\(argument.text)\"")
            return nil
        }
    }
}

extension ConfigValidator {
    /// The algorithms a `key` line may name (SPEC §5).
    static let jwsAlgorithms: Set<String> = [
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
    ]

    /// `key KID ALG MATERIAL;` / `signing_key KID ALG MATERIAL;`: a known algorithm, a kid not
    /// in `existing`, and material from a secret source. - Returns: nil after reporting.
    mutating func keyLine(_ directive: ConfigDirective, existing: [JWTKeyConfig]) -> JWTKeyConfig? {
        guard shape(directive, arguments: 3...3) else { return nil }
        let (kid, algorithm, material) = (directive.arguments[0], directive.arguments[1], directive.arguments[2])
        guard Self.jwsAlgorithms.contains(algorithm.text) else {
            error(algorithm.location, "unknown algorithm \"\(algorithm.text)\"; expected one of HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA")
            return nil
        }
        if existing.contains(where: { $0.kid == kid.text }) {
            error(kid.location, "duplicate key id \"\(kid.text)\"")
            return nil
        }
        guard let bytes = secret(material) else { return nil }
        return JWTKeyConfig(kid: kid.text, algorithm: algorithm.text, material: Secret(bytes), location: directive.location)
    }

    /// `jwt { ... }`. - Returns: nil after reporting a problem that makes the block unusable.
    mutating func jwtBlock(_ directive: ConfigDirective) -> JWTBlockConfig? {
        var seen: [String: SourceLocation] = [:]
        var result = JWTBlockConfig(issuer: "", location: directive.location)
        var valid = true
        for child in directive.block ?? [] {
            switch child.name {
            case "issuer", "audience":
                valid = issuerOrAudience(child, &seen, issuer: &result.issuer, audiences: &result.audiences) && valid
            case "key":
                guard let key = keyLine(child, existing: result.keys) else { valid = false; continue }
                result.keys.append(key)
            case "jwks_file":
                guard shape(child, arguments: 1...1) else { valid = false; continue }
                let path = child.arguments[0]
                guard let document = secret(ConfigArgument(text: "file:" + path.text, location: path.location)) else {
                    valid = false
                    continue
                }
                result.jwksFiles.append(JWKSFileConfig(path: path.text, document: document, location: child.location))
            case "jwks_url", "discovery":
                guard child.name == "jwks_url" || once(child, &seen), shape(child, arguments: 1...2),
                      let entry = jwksURL(child, existing: result.jwksURLs)
                else {
                    valid = false
                    continue
                }
                result.jwksURLs.append(entry)
            case "ca":
                guard once(child, &seen), shape(child, arguments: 1...1), let path = filePath(child.arguments[0]) else {
                    valid = false
                    continue
                }
                result.caFile = path
            case "leeway":
                guard once(child, &seen), shape(child, arguments: 1...1), let leeway = parse(child.arguments[0], ConfigValue.duration) else {
                    valid = false
                    continue
                }
                guard leeway <= .seconds(JWTBlockConfig.maxLeewaySeconds) else {
                    error(child.arguments[0].location, "\"leeway\" is at most 1h")
                    valid = false
                    continue
                }
                result.leeway = leeway
            case "require":
                guard once(child, &seen), shape(child, arguments: 1...1) else { valid = false; continue }
                switch child.arguments[0].text {
                case "exp": result.requireExp = true
                case "none": result.requireExp = false
                default:
                    error(child.arguments[0].location, "\"require\" takes exp or none")
                    valid = false
                }
            case "require_typ":
                guard once(child, &seen), shape(child, arguments: 1...1) else { valid = false; continue }
                result.requiredTyp = child.arguments[0].text
            case "claims":
                guard once(child, &seen), shape(child, arguments: 1...Int.max) else { valid = false; continue }
                valid = identityClaims(child, into: &result.claims) && valid
            case "cache":
                guard once(child, &seen), shape(child, arguments: 1...1),
                      let size = parse(child.arguments[0], { (text: String) throws(ConfigValueError) -> Int in try ConfigValue.integer(text, in: 0...10_000_000) })
                else { valid = false; continue }
                result.cacheSize = size
            default:
                reject(child, in: .jwt)
                valid = false
            }
        }
        if result.issuer.isEmpty, let discovery = result.jwksURLs.first(where: \.discovery) {
            if let issuer = Self.issuer(fromDiscovery: discovery.url) {
                result.issuer = issuer
            } else {
                error(discovery.location, "cannot tell the issuer from this discovery URL (not …/.well-known/openid-configuration); add \"issuer\"")
                return nil
            }
        }
        valid = required(!result.issuer.isEmpty, in: directive, "an \"issuer\"") && valid
        if let ca = seen["ca"], !result.jwksURLs.contains(where: { $0.url.scheme == .https }) {
            error(ca, "\"ca\" needs an https \"jwks_url\" or \"discovery\" in this block (it would do nothing)")
            valid = false
        }
        if valid {
            let hasKeys = !(result.keys.isEmpty && result.jwksFiles.isEmpty && result.jwksURLs.isEmpty)
            valid = required(hasKeys, in: directive, "at least one \"key\", \"jwks_file\", \"jwks_url\" or \"discovery\"")
        }
        return valid ? result : nil
    }

    /// `claims FIELD=claim[,claim...]...;` — which token claims fill each identity field.
    /// - Returns: false after reporting a malformed or unknown field.
    mutating func identityClaims(_ directive: ConfigDirective, into claims: inout ClaimMapping) -> Bool {
        var valid = true
        for argument in directive.arguments {
            let parts = argument.text.split(separator: "=", maxSplits: 1).map(String.init)
            let sources = parts.count == 2 ? parts[1].split(separator: ",").map(String.init) : []
            guard parts.count == 2, !sources.isEmpty else {
                error(argument.location, "claims take FIELD=claim[,claim...], e.g. user_id=sub")
                valid = false
                continue
            }
            switch parts[0] {
            case "user_id": claims.userID = sources
            case "org_id": claims.orgID = sources
            case "email": claims.email = sources
            case "name": claims.name = sources
            case "permissions": claims.permissions = sources
            case "roles": claims.roles = sources
            default:
                error(argument.location, "unknown identity field \"\(parts[0])\"; expected user_id, org_id, email, name, permissions or roles")
                valid = false
            }
        }
        return valid
    }

    /// Reports `"<block>" needs <what>` at the block when `present` is false.
    /// - Returns: `present`.
    mutating func required(_ present: Bool, in directive: ConfigDirective, _ what: String) -> Bool {
        if !present { error(directive.location, "\"\(directive.name)\" needs \(what)") }
        return present
    }
}
