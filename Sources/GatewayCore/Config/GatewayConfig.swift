package import GatewayHTTP
package import GatewayTLS

/// The validated, immutable configuration the gateway runs with: one snapshot per load or
/// reload (`SIGHUP`), shared read-only by every event loop.
package struct GatewayConfig: Sendable, Equatable {
    /// `listen ADDR:PORT;` (repeatable). Default `127.0.0.1:8080`.
    package var listen: [ListenAddress] = []
    /// `admin_listen ADDR:PORT;` — the admin listener (`/healthz`); none by default.
    package var adminListen: ListenAddress? = nil
    /// `introspection { ... }` — opaque tokens checked by an RFC 7662 endpoint; nil when off.
    package var introspection: IntrospectionConfig? = nil
    /// `mtls { ... }` — how client certificates map to identities on `auth mtls` routes.
    package var mtls = MTLSConfig()
    /// `workers auto|N;` — event loops. Default `auto` (one per core).
    package var workers: WorkerCount = .auto
    /// `trust_proxies CIDR...;` — peers whose forwarding headers are believed. Default none.
    package var trustProxies: [CIDR] = []
    /// `limits { ... }` — SPEC §13 limits.
    package var limits = LimitsConfig()
    /// `upstream NAME { ... }` blocks, in file order.
    package var upstreams: [UpstreamConfig] = []
    /// `route PATTERN { ... }` blocks, in file order (order does not affect matching).
    package var routes: [RouteConfig] = []
    /// `store sqlite PATH;` — the key store file; nil when not configured.
    package var storePath: String? = nil
    /// `jwt { ... }` blocks, one per trusted issuer (a token picks its block by `iss`).
    package var jwt: [JWTBlockConfig] = []
    /// `api_keys { ... }` — API-key authentication (needs `store`); nil when absent.
    package var apiKeys: APIKeysConfig? = nil
    /// `tokens { ... }` — the gateway's own signing keys (`token issue`, `jwks`, identity
    /// tokens); nil when absent. The gateway trusts its own issuer implicitly (SPEC §10).
    package var tokens: TokensConfig? = nil
    /// `identity_token on|off;` — the default for routes: add `X-Auth-Identity` (SPEC §8).
    package var identityToken = false
    /// `roles { NAME PERMISSION|@ROLE ...; }` — named permission sets (SPEC §5, §6).
    package var roles: [RoleConfig] = []
    /// `decision_endpoint PATH|off;` — where the public listener answers decision subrequests
    /// (nginx `auth_request`, Traefik/Caddy forward auth; SPEC §9), checked before route
    /// matching. A normalized absolute path; nil when `off`. Default `/_gateway/auth`.
    package var decisionEndpoint: String? = "/_gateway/auth"
    /// `resource URL;` — the protected resource the gateway fronts (RFC 9728): its metadata is
    /// published and every 401 points to it. nil when not configured.
    package var resource: String? = nil
    /// `registration { require_token SECRET; roles R...; permissions P...; }` — agent
    /// self-registration at `POST /_gateway/register` (SPEC §10); nil when absent.
    package var registration: RegistrationConfig? = nil
    /// `metrics on|off;` — count requests for the admin listener's `/metrics` (SPEC §15).
    /// Default on; off leaves the request path without the counting and `/metrics` answers 404.
    package var metrics = true
    /// `access_log off|stdout|file:PATH;` — one JSON line per request. Default `stdout`.
    package var accessLog: AccessLogTarget = .stdout
    /// `rate_limit RATE [burst=N];` — the default limit per principal (SPEC §7) for routes
    /// without a `rate_limit` of their own; an API key's stored limit replaces it for that key.
    /// nil (the default): no default limit. Without `burst`, the whole `count` may be spent at
    /// once (see `RateLimitPolicy`).
    package var rateLimit: Rate? = nil
    /// `auth_failure_limit RATE [burst=N] | off;` — failed authentications allowed per client
    /// address, to slow credential guessing. Default `20/min burst=20`; nil when `off`.
    package var authFailureLimit: Rate? = GatewayConfig.defaultAuthFailureLimit
    /// The `auth_failure_limit` used when the directive is absent: 20/min burst=20.
    package static let defaultAuthFailureLimit = Rate(count: 20, period: .seconds(60), burst: 20)
    /// Non-fatal findings (a literal secret, for instance), shown by `check-config`.
    package var warnings: [ConfigDiagnostic] = []

    package init() {}
}

/// A `host:port` to bind: an IPv4 or IPv6 literal (`[::1]:8080`) or `localhost`, and for
/// `listen ADDR tls { ... }` its certificates.
package struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// IPv4 dotted quad or IPv6 text without brackets.
    package var host: String
    package var port: UInt16
    /// The listener's TLS settings; nil for plain HTTP.
    package var tls: ServerTLSSettings?
    /// Where the directive stands (for errors loading its certificates); not part of equality.
    package var location: SourceLocation?
    package init(host: String, port: UInt16, tls: ServerTLSSettings? = nil, location: SourceLocation? = nil) {
        self.host = host
        self.port = port
        self.tls = tls
        self.location = location
    }
    package static func == (lhs: ListenAddress, rhs: ListenAddress) -> Bool {
        lhs.host == rhs.host && lhs.port == rhs.port && lhs.tls == rhs.tls
    }
    /// The same address without its TLS settings (what a reload compares: sockets stay,
    /// certificates change).
    package var endpoint: ListenAddress { ListenAddress(host: host, port: port) }
    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// How many event loops to run.
package enum WorkerCount: Sendable, Equatable {
    case auto
    case count(Int)
}

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `::1/128`); a bare address means a full-length prefix.
package struct CIDR: Sendable, Equatable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order, host bits zeroed.
    package var address: [UInt8]
    package var prefixLength: Int
    package init(address: [UInt8], prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }
    /// True when `candidate` (4 or 16 bytes) lies in this network. IPv4-mapped IPv6
    /// addresses (`::ffff:a.b.c.d`) match IPv4 networks.
    package func contains(_ candidate: [UInt8]) -> Bool {
        var bytes = candidate
        if address.count == 4, bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            bytes = Array(bytes[12..<16])
        }
        guard bytes.count == address.count else { return false }
        var remaining = prefixLength
        for i in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask: UInt8 = bits == 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if bytes[i] & mask != address[i] & mask { return false }
            remaining -= bits
        }
        return true
    }
    package var description: String {
        let text = address.count == 4
            ? address.map(String.init).joined(separator: ".")
            : stride(from: 0, to: 16, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }.joined(separator: ":")
        return "\(text)/\(prefixLength)"
    }
}

/// SPEC §13 limits; every one has the documented default.
package struct LimitsConfig: Sendable, Equatable {
    /// `max_head SIZE;` — request line + headers. Default 16k. Over: 431.
    package var maxHeadBytes = 16 * 1024
    /// `max_headers N;` — header fields per request. Default 100. Over: 431.
    package var maxHeaders = 100
    /// `max_body SIZE;` — request body, checked while streaming. Default 10m. Over: 413.
    package var maxBodyBytes: Int64 = 10 * 1024 * 1024
    /// `max_token SIZE;` — a bearer credential. Default 8k.
    package var maxTokenBytes = 8 * 1024
    /// `head_timeout DURATION;` — deadline for a whole request head. Default 10s. Over: 408.
    package var headTimeout: Duration = .seconds(10)
    /// `idle_timeout DURATION;` — keep-alive idle time between requests. Default 60s.
    package var idleTimeout: Duration = .seconds(60)
    /// `max_connections N;` — client connections per gateway; beyond, accepted and closed. Default 10000.
    package var maxConnections = 10_000
    /// `drain_timeout DURATION;` — how long SIGTERM waits for in-flight requests. Default 10s.
    package var drainTimeout: Duration = .seconds(10)
    /// `send_timeout DURATION;` — the longest wait between two successful writes to a client
    /// with output pending (nginx `send_timeout`); then the client connection and its upstream
    /// connection are closed (the upstream one is not reused). Default 60s.
    package var sendTimeout: Duration = .seconds(60)
    /// `body_timeout DURATION;` — the longest wait for the next bytes of a request body the
    /// gateway is forwarding (nginx `client_body_timeout`); then 408 and both connections
    /// close. The upstream waits for the client meanwhile, so its `read_timeout` does not run
    /// and it is not blamed. Default 60s.
    package var bodyTimeout: Duration = .seconds(60)
    /// `tunnel_idle_timeout DURATION;` — a WebSocket tunnel with no byte in either direction
    /// for this long is closed at both ends. Default 10m; an upstream may set its own.
    package var tunnelIdleTimeout: Duration = .seconds(600)
    package init() {}
}

/// `upstream NAME { server HOST:PORT [max_fails=N] [fail_timeout=D]; keepalive N; ... }`.
package struct UpstreamConfig: Sendable, Equatable {
    package var name: String
    /// `server HOST:PORT ...;` (at least one), tried round robin.
    package var servers: [UpstreamServerConfig]
    /// `keepalive N;` — idle connections kept per event loop. Default 32.
    package var keepalive = 32
    /// `connect_timeout DURATION;` — default 2s (SPEC §13).
    package var connectTimeout: Duration = .seconds(2)
    /// `read_timeout DURATION;` — time to the first byte of the response head. Default 60s.
    package var readTimeout: Duration = .seconds(60)
    /// `send_timeout DURATION;` — the longest wait between two successful writes of a request
    /// (body) to a server of this upstream; then the request fails. Default 60s.
    package var sendTimeout: Duration = .seconds(60)
    /// `tunnel_idle_timeout DURATION;` — overrides `limits { tunnel_idle_timeout }` for
    /// WebSocket tunnels to this upstream. Default: the limit's.
    package var tunnelIdleTimeout: Duration? = nil
    /// How TLS servers of this upstream (`server https://…`, or all with `tls on;`) are
    /// checked; nil when every server is plain HTTP.
    package var tls: UpstreamTLSConfig? = nil
    package var location: SourceLocation
    package init(name: String, servers: [UpstreamServerConfig], location: SourceLocation) {
        self.name = name
        self.servers = servers
        self.location = location
    }
}

/// An upstream's TLS client settings: `ca`, `tls_verify`, `tls_server_name`,
/// `tls_certificate`/`tls_key`.
package struct UpstreamTLSConfig: Sendable, Equatable {
    package var client = ClientTLSSettings()
    /// The name sent as SNI and checked against the server's certificate; nil: each server's
    /// own host (an IP address is then matched against the certificate's IP SANs).
    package var serverName: String? = nil
    package init() {}
}

/// One upstream server with its passive-health settings.
package struct UpstreamServerConfig: Sendable, Equatable {
    /// IPv4/IPv6 literal or `localhost`.
    package var host: String
    package var port: UInt16
    /// `max_fails=N` — consecutive failures before the server is ejected. Default 1.
    package var maxFails = 1
    /// `fail_timeout=DURATION` — how long an ejected server is skipped. Default 10s.
    package var failTimeout: Duration = .seconds(10)
    /// `server https://…` (or the upstream's `tls on;`): spoken to over TLS.
    package var tls = false
    package init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }
}

/// `route PATTERN { ... }`.
package struct RouteConfig: Sendable, Equatable {
    /// The pattern as written (`/api/v1/sessions/{id}`); compiled by `RouteCompiler`.
    package var pattern: String
    /// `methods M...;` — nil when the route accepts every method.
    package var methods: MethodSet? = nil
    /// `public;` — no authentication.
    package var isPublic = false
    package var action: RouteAction
    /// `strip_prefix /api;` — removed from the normalized path before forwarding.
    package var stripPrefix: String? = nil
    /// `auth api_key|jwt|optional;` — which credentials the route accepts. Default: any configured.
    package var auth: RouteAuthMode = .required
    /// `forward_credentials on;` — keep the credential header when forwarding. Default off.
    package var forwardCredentials = false
    /// `allow_query_token on;` — also accept `?access_token=` (removed before forwarding).
    package var allowQueryToken = false
    /// `identity_token on|off;` — nil inherits the top-level `identity_token`.
    package var identityToken: Bool? = nil
    /// `resource URL;` — this route's own protected resource (RFC 9728 §3.1, one per MCP
    /// server behind the gateway); nil inherits the top-level `resource`.
    package var resource: String? = nil
    /// `require P...;` — every permission is needed (403 `insufficient_scope`).
    package var require: [String] = []
    /// `require_any P...;` — one of the permissions is needed (403 `insufficient_scope`).
    package var requireAny: [String] = []
    /// `require_role R...;` — one of the roles is needed (403 `access_denied`).
    package var requireRole: [String] = []
    /// `match_claim CLAIM {param};` — the identity's claim must equal the path parameter.
    package var matchClaims: [ClaimMatch] = []
    /// `rate_limit RATE [burst=N] | off;` — this route's own limit per principal, or `off` to
    /// exempt it from the top-level default. Default `.inherit`.
    package var rateLimit: RouteRateLimit = .inherit
    /// Where the `route` keyword stands, for conflict errors.
    package var location: SourceLocation
    /// Where the pattern argument stands, for `RoutePatternError`s (defaults to `location`).
    package var patternLocation: SourceLocation
    package init(pattern: String, action: RouteAction, location: SourceLocation) {
        self.pattern = pattern
        self.action = action
        self.location = location
        self.patternLocation = location
    }
}

/// One line of `roles { ... }`: a name, the permissions it grants directly, and the roles it
/// includes (`@role`). Permissions may end in `:*` (an area) or be `*` (everything).
package struct RoleConfig: Sendable, Equatable {
    package var name: String
    package var permissions: [String]
    package var includes: [String]
    package var location: SourceLocation
    package init(name: String, permissions: [String], includes: [String], location: SourceLocation) {
        self.name = name
        self.permissions = permissions
        self.includes = includes
        self.location = location
    }
}

/// Which credentials a protected route accepts (`auth ...;`).
package enum RouteAuthMode: Sendable, Equatable {
    /// Any configured method; a credential is required (the default for non-public routes).
    case required
    /// `auth api_key;` — only API keys.
    case apiKeyOnly
    /// `auth jwt;` — only JWTs.
    case jwtOnly
    /// `auth optional;` — authenticate when a credential is present, else forward anonymously.
    case optional
    /// `auth mtls;` — the client certificate verified in the TLS handshake is the credential.
    case mtls
    /// `auth introspection;` — only bearer tokens the introspection endpoint says are active.
    case introspection
}

/// A route's rate limit (`rate_limit ...;` inside `route`). A route with its own rate is a
/// separate limit scope: its buckets are independent of the default limit's.
package enum RouteRateLimit: Sendable, Equatable {
    /// No `rate_limit`: the top-level `rate_limit` applies (or a key's stored limit).
    case inherit
    /// `rate_limit off;` — not limited per principal.
    case off
    /// `rate_limit RATE [burst=N];`
    case rate(Rate)
}

/// What a route does with a request that passed its checks.
package enum RouteAction: Sendable, Equatable {
    /// `upstream NAME;`
    case upstream(String)
    /// `respond STATUS "body";`
    case respond(status: Int, body: String)
    /// `deny;` — 403 `access_denied`.
    case deny
}

/// Where access-log lines go.
package enum AccessLogTarget: Sendable, Equatable {
    case off
    case stdout
    case file(String)
}

