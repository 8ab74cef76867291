import GatewayCrypto
import GatewayHTTP
import Testing

@testable import GatewayCore

/// The access pipeline without sockets (SPEC §4-§7): stage order, refusals and their mapping.
@Suite("Access pipeline")
struct AccessPipelineTests {
    static let secret = "pipeline-test-hmac-secret-0123456789abcdef"
    static let config = """
        upstream u { server 127.0.0.1:9; }
        store sqlite k.db;
        api_keys { header X-API-Key; prefix gw_; }
        tokens { signing_key t1 HS256 "\(secret)"; issuer https://gw.test; audience api; }
        roles { reader memory:read; admin admin:*; }
        auth_failure_limit 3/min burst=3;
        route /public/** { public; upstream u; }
        route /open/** { auth optional; upstream u; }
        route /memory/** { require memory:read; rate_limit 2/min burst=2; upstream u; }
        route /orgs/{org}/** { match_claim org_id {org}; upstream u; }
        route /admin/** { require_role admin; upstream u; }
        route /write { methods POST; upstream u; }
        route /closed/** { deny; }
        route /limited/** { rate_limit 1/min burst=1; upstream u; }
        """

    /// One pipeline with its state, scratch and clock, as a loop and a connection hold them.
    final class Harness {
        let pipeline: AccessPipeline
        let scratch = AccessScratch()
        let issuer: TokenIssuer
        var state = AccessState()
        var now: Int64 = 1_000_000
        let wallSecond = 1_800_000_000
        let key: String
        let record: KeyRecord

        init(config: String = AccessPipelineTests.config, keyRateLimit: String? = nil) throws {
            let loaded = try LoadedConfig.load(text: config, fileName: "t.conf", environment: [:])
            pipeline = AccessPipeline(loaded: loaded, generation: 1, limiters: AccessLimiters())
            issuer = try #require(loaded.tokens)
            let made = APIKeyFormat.generate(prefix: "gw_")
            let record = KeyRecord(
                id: made.id, principalID: "key-user", name: "k", prefix: "gw_", permissions: [], roles: ["reader"],
                rateLimit: keyRateLimit, orgID: "acme", createdAt: 0, expiresAt: nil, lastUsedAt: nil, active: true,
                rotatedFrom: nil, graceUntil: nil, isLegacy: false,
                secretHash: Digest.sha256(Array(made.secret.utf8)), legacyHash: nil)
            key = made.key
            self.record = record
            scratch.useKeyIndex(APIKeyIndex(records: [record]), generation: 1)
        }

        /// A token of the gateway's own issuer for `subject`.
        func token(_ subject: String = "u1", permissions: [String] = [], orgID: String? = nil, keyID: String? = nil) throws -> String {
            var claims = AccessTokenClaims(subject: subject, lifetime: .seconds(300))
            claims.permissions = permissions
            claims.orgID = orgID
            claims.keyID = keyID
            return try issuer.accessToken(claims, now: Int64(wallSecond))
        }

        /// Decides `method path` with `headers` from `peer`, as a connection would.
        func decide(
            _ method: String, _ target: String, _ headers: [String] = [], peer: [UInt8] = [192, 0, 2, 1], trace: AccessTrace? = nil
        ) throws -> AccessResult {
            let raw = "\(method) \(target) HTTP/1.1\r\nHost: gw\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n"
            let bytes = Array(raw.utf8)
            var parser = RequestHeadParser()
            var head = RequestHead()
            let complete = try bytes.withUnsafeBytes { buffer throws(HTTPParseError) in try parser.parse(buffer, into: &head) }
            #expect(complete)
            return bytes.withUnsafeBytes { buffer in
                if let problem = scratch.normalize(head.path, buffer) { return AccessResult(verdict: .refuse(.badPath(problem))) }
                let request = AccessRequest(
                    method: head.method, query: head.query, headers: head.headers, bytes: buffer, peerAddress: peer, peerTrusted: false)
                return pipeline.decide(request, state: &state, scratch: scratch, clock: AccessClock(now: now, wallSecond: wallSecond), trace: trace)
            }
        }

        func verdict(_ method: String, _ target: String, _ headers: [String] = []) throws -> AccessVerdict {
            try decide(method, target, headers).verdict
        }

        /// Authenticates a token-endpoint client from `peer`, as the token endpoint does.
        func client(_ key: String, clientID: String? = nil, peer: [UInt8] = [192, 0, 2, 1]) -> ClientCheck {
            let bytes: [UInt8] = []
            return bytes.withUnsafeBytes { buffer in
                let request = AccessRequest(method: .post, query: nil, headers: [], bytes: buffer, peerAddress: peer, peerTrusted: false)
                return pipeline.authenticateClient(
                    key: key, clientID: clientID, request: request, state: &state, scratch: scratch,
                    clock: AccessClock(now: now, wallSecond: wallSecond))
            }
        }
    }

    // MARK: Stage order

    @Test("the route is matched before any credential is looked at (404, 405 beat 401/400)")
    func routeBeforeAuthentication() throws {
        let h = try Harness()
        #expect(try h.verdict("GET", "/nowhere", ["Authorization: Bearer garbage"]) == .refuse(.routeNotFound))
        #expect(try h.verdict("GET", "/write", ["Authorization: Bearer a", "X-API-Key: b"]) == .refuse(.methodNotAllowed(allow: MethodSet(.post))))
        #expect(try h.verdict("GET", "/closed/x", []) == .refuse(.routeDenied))
        #expect(try h.verdict("GET", "/closed/x", ["Authorization: Bearer garbage"]) == .refuse(.routeDenied))
    }

    @Test("a method-override header naming another method is refused before routing", .bug(id: "audit-method-override"))
    func methodOverrideBeforeRouting() throws {
        let h = try Harness()
        for name in ["X-HTTP-Method-Override", "x-http-method", "X-Method-Override"] {
            #expect(try h.verdict("POST", "/write", ["\(name): DELETE"]) == .refuse(.methodOverride), "\(name)")
            #expect(try h.verdict("POST", "/write", ["\(name): post"]) == .refuse(.methodOverride), "method tokens are case-sensitive")
            #expect(try h.verdict("GET", "/nowhere", ["\(name): PUT"]) == .refuse(.methodOverride))
        }
        #expect(try h.verdict("POST", "/public/x", ["X-HTTP-Method-Override: POST"]) == .allow, "naming the request's own method is harmless")
        #expect(try h.verdict("PROPFIND", "/write", ["X-HTTP-Method-Override: OTHER"]) == .refuse(.methodOverride))
        // The `_` spelling is never forwarded (HeaderName.underscoreSpelling), so it is not refused.
        #expect(try h.verdict("POST", "/public/x", ["X_HTTP_Method_Override: DELETE"]) == .allow)
        #expect(DenyReason.methodOverride.error == .invalidRequest && DenyReason.methodOverride.reason == "method_override")
    }

    /// Symfony/Laravel and Spring's `HiddenHttpMethodFilter` read `_method` from the query of a
    /// POST (upper-cased; PHP turns `.method` and ` method` into `_method`).
    @Test("a `_method` query parameter naming another method is refused", .bug(id: "audit-method-override"), arguments: [
        "_method=DELETE", "_method=delete", "a=1&_method=PUT&b=2", "%5Fmethod=DELETE", "_method=DEL%45TE", ".method=DELETE",
        "+method=DELETE", "_method=", "_method", "_method=POST&_method=DELETE",
    ])
    func methodOverrideInQuery(_ query: String) throws {
        let h = try Harness()
        #expect(try h.verdict("POST", "/public/x?\(query)") == .refuse(.methodOverride))
    }

    @Test("`_method` naming the request's own method, and look-alike parameters, pass", arguments: [
        "_method=POST", "_method=post", "x_method=DELETE", "_methods=DELETE", "method=DELETE", "a=_method%3DDELETE",
    ])
    func harmlessMethodParameters(_ query: String) throws {
        let h = try Harness()
        #expect(try h.verdict("POST", "/public/x?\(query)") == .allow)
    }

    @Test("the failure gate is checked before authentication: a locked-out address cannot guess on")
    func failureGateBeforeAuthentication() throws {
        let h = try Harness()
        for _ in 0..<3 {
            #expect(try h.verdict("GET", "/memory/x", ["Authorization: Bearer nope"]) == .refuse(.credentialInvalid(.jwt(.malformed))))
        }
        let valid = "X-API-Key: \(h.key)"
        guard case .refuse(.authFailuresExceeded(let retry)) = try h.verdict("GET", "/memory/x", [valid]) else {
            Issue.record("a valid key from a locked-out address was not refused")
            return
        }
        #expect(retry > 0)
        // Another address is not locked out.
        #expect(try h.decide("GET", "/memory/x", [valid], peer: [192, 0, 2, 2]).verdict == .allow)
    }

    @Test("IPv4-mapped peers count as their IPv4 address, not as one shared /64")
    func mappedAddressesAreTheirOwn() throws {
        let h = try Harness()
        let mapped: ([UInt8]) -> [UInt8] = { [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + $0 }
        for _ in 0..<3 {
            _ = try h.decide("GET", "/memory/x", ["Authorization: Bearer nope"], peer: mapped([10, 1, 1, 1]))
        }
        let valid = "X-API-Key: \(h.key)"
        #expect(try h.decide("GET", "/memory/x", [valid], peer: mapped([10, 2, 2, 2])).verdict == .allow)
        #expect(try h.decide("GET", "/memory/x", [valid], peer: mapped([10, 1, 1, 1])).verdict != .allow)
        #expect(try h.decide("GET", "/memory/x", [valid], peer: [10, 1, 1, 1]).verdict != .allow, "the same host either way")
    }

    @Test("authorization refusals come before the rate limit and never spend the caller's budget")
    func authorizationBeforeRateLimit() throws {
        let h = try Harness()
        let stranger = "Authorization: Bearer \(try h.token("u2"))"
        for _ in 0..<5 {
            #expect(try h.verdict("GET", "/memory/x", [stranger]) == .refuse(.insufficientScope("memory:read")))
        }
        #expect(h.state.rateLimitHeaders.isEmpty)
        let reader = "Authorization: Bearer \(try h.token("u2", permissions: ["memory:read"]))"
        #expect(try h.verdict("GET", "/memory/x", [reader]) == .allow)
        #expect(try h.verdict("GET", "/memory/x", [reader]) == .allow)
        #expect(try h.verdict("GET", "/memory/x", [reader]) == .refuse(.rateLimited(retryAfter: 30)))
        #expect(String(decoding: h.state.rateLimitHeaders, as: UTF8.self).hasPrefix("RateLimit-Policy: "))
    }

    @Test("the first failing stage answers: two credentials are a 400 whatever else is wrong")
    func firstFailureAnswers() throws {
        let h = try Harness()
        #expect(try h.verdict("GET", "/admin/x", ["Authorization: Bearer a", "X-API-Key: \(h.key)"])
            == .refuse(.credentialAmbiguous(.twoCredentials)))
        #expect(try h.verdict("GET", "/admin/x", ["Authorization: Bearer a", "Authorization: Bearer b"])
            == .refuse(.credentialAmbiguous(.duplicateAuthorization)))
        #expect(try h.verdict("GET", "/admin/x", []) == .refuse(.credentialMissing))
        #expect(try h.verdict("GET", "/admin/x", ["X-API-Key: \(h.key)"]) == .refuse(.roleMissing))
    }

    // MARK: Each stage

    @Test("public routes ignore credentials; auth optional checks one only when present")
    func publicAndOptional() throws {
        let h = try Harness()
        let publicResult = try h.decide("GET", "/public/a", ["Authorization: Bearer garbage"])
        #expect(publicResult.verdict == .allow && publicResult.identity == nil && publicResult.route?.pattern == "/public/**")
        let anonymous = try h.decide("GET", "/open/a")
        #expect(anonymous.verdict == .allow && anonymous.identity == nil)
        #expect(try h.verdict("GET", "/open/a", ["Authorization: Bearer garbage"]) == .refuse(.credentialInvalid(.jwt(.malformed))))
        let keyed = try h.decide("GET", "/open/a", ["X-API-Key: \(h.key)"])
        #expect(keyed.verdict == .allow && keyed.identity?.userID == "key-user" && h.state.usedKeyID == keyed.identity?.keyID)
        #expect(keyed.rendered.map { String(decoding: $0.headers, as: UTF8.self) }?.contains("X-Auth-Org-Id: acme\r\n") == true)
    }

    @Test("claims are matched against the decoded path parameter")
    func claimBinding() throws {
        let h = try Harness()
        let acme = "Authorization: Bearer \(try h.token(orgID: "acme corp"))"
        #expect(try h.verdict("GET", "/orgs/acme%20corp/x", [acme]) == .allow)
        #expect(try h.verdict("GET", "/orgs/other/x", [acme]) == .refuse(.claimMismatch))
    }

    @Test("rules see the path without segment parameters: admin;x is admin, a parameter is its segment's value")
    func segmentParametersDoNotDodgeRules() throws {
        let h = try Harness()
        let reader = "Authorization: Bearer \(try h.token(permissions: ["memory:read"], orgID: "acme"))"
        #expect(try h.verdict("GET", "/admin;x/y", [reader]) == h.verdict("GET", "/admin/y", [reader]))
        #expect(try h.verdict("GET", "/admin;x/y", [reader]) != .allow)
        #expect(try h.verdict("GET", "/orgs/other;acme/x", [reader]) == .refuse(.claimMismatch))
        #expect(try h.verdict("GET", "/orgs/acme;v=2/x", [reader]) == .allow)
        #expect(String(decoding: h.scratch.path, as: UTF8.self) == "/orgs/acme;v=2/x", "forwarded as it came")
    }

    @Test("anonymous callers are limited per client address")
    func anonymousLimit() throws {
        let h = try Harness(config: Self.config.replacingFirst("route /limited/** { rate_limit", "route /limited/** { public; rate_limit"))
        #expect(try h.decide("GET", "/limited/a").verdict == .allow)
        #expect(try h.decide("GET", "/limited/a").verdict == .refuse(.rateLimited(retryAfter: 60)))
        #expect(try h.decide("GET", "/limited/a", peer: [192, 0, 2, 9]).verdict == .allow)
    }

    @Test("the memo answers only for the same presentation; the trace records each stage")
    func memoAndTrace() throws {
        let h = try Harness()
        #expect(try h.verdict("GET", "/open/a", ["X-API-Key: \(h.key)"]) == .allow)
        #expect(try h.verdict("GET", "/open/a", ["Authorization: Bearer \(h.key)"]) == .refuse(.credentialInvalid(.jwt(.malformed))))
        let trace = AccessTrace()
        _ = try h.decide("GET", "/memory/x", ["Authorization: Bearer \(try h.token(permissions: ["memory:read"]))"], trace: trace)
        let stages = trace.events.map { event -> String in
            switch event {
            case .route: "route"
            case .anonymous: "anonymous"
            case .authenticated: "authenticated"
            case .authorization: "authorization"
            case .rateLimit: "rate_limit"
            }
        }
        #expect(stages == ["route", "authenticated", "authorization", "rate_limit"])
    }

    // MARK: Mapping

    @Test("every refusal has its SPEC §12 status, code and stable log reason", arguments: [
        (DenyReason.badPath(.encodedSlash), 400, "invalid_request", "bad_path"),
        (.routeNotFound, 404, "route_not_found", "route_not_found"),
        (.methodNotAllowed(allow: MethodSet(.get)), 405, "method_not_allowed", "method_not_allowed"),
        (.routeDenied, 403, "access_denied", "route_denied"),
        (.authFailuresExceeded(retryAfter: 5), 429, "rate_limited", "auth_failures"),
        (.credentialMissing, 401, "unauthorized", "credential_missing"),
        (.credentialAmbiguous(.twoCredentials), 400, "invalid_request", "two_credentials"),
        (.credentialInvalid(.jwt(.expired)), 401, "invalid_token", "jwt_expired"),
        (.credentialInvalid(.apiKey(.wrongSecret)), 401, "invalid_token", "wrong_secret"),
        (.credentialInvalid(.apiKeyIdentityUnrepresentable), 401, "invalid_token", "apikey_identity_unrepresentable"),
        (.insufficientScope("a b"), 403, "insufficient_scope", "insufficient_scope"),
        (.roleMissing, 403, "access_denied", "role_missing"),
        (.claimMismatch, 403, "access_denied", "claim_mismatch"),
        (.keysUnavailable(retryAfter: 5), 503, "temporarily_unavailable", "jwt_keys_unavailable"),
        (.rateLimited(retryAfter: 3), 429, "rate_limited", "rate_limited"),
    ])
    func mapping(_ reason: DenyReason, _ status: Int, _ code: String, _ logReason: String) {
        #expect(reason.error.status == status)
        #expect("\(reason.error.code)" == code)
        #expect(reason.reason == logReason)
    }

    // MARK: Token service

    @Test("the key's stored limit binds the token endpoint and the tokens exchanged for the key: one bucket")
    func exchangedTokensShareTheKeyBucket() throws {
        let h = try Harness(keyRateLimit: "3/min")
        guard case .authenticated = h.client(h.key) else { Issue.record("client refused"); return }
        let bearer = "Authorization: Bearer \(try h.token("key-user", keyID: h.record.id))"
        #expect(try h.verdict("GET", "/open/a", [bearer]) == .allow)
        #expect(try h.verdict("GET", "/open/a", ["X-API-Key: \(h.key)"]) == .allow)
        guard case .refuse(.rateLimited) = try h.verdict("GET", "/open/a", [bearer]) else {
            Issue.record("the exchanged token did not spend the key's bucket")
            return
        }
        guard case .rateLimited = h.client(h.key) else { Issue.record("the token endpoint ignored the key's limit"); return }
    }

    @Test("a token exchanged for a key ends with the key, within the next key index")
    func exchangedTokenBoundToKey() throws {
        let h = try Harness()
        let bearer = "Authorization: Bearer \(try h.token("key-user", permissions: ["memory:read"], keyID: h.record.id))"
        #expect(try h.verdict("GET", "/memory/x", [bearer]) == .allow)
        h.scratch.useKeyIndex(APIKeyIndex(records: []), generation: 2)
        #expect(try h.verdict("GET", "/memory/x", [bearer]) == .refuse(.credentialInvalid(.jwtRevoked)))
        // A token naming no key is not affected.
        let plain = "Authorization: Bearer \(try h.token("u3", permissions: ["memory:read"]))"
        #expect(try h.verdict("GET", "/memory/x", [plain]) == .allow)
    }

    @Test("token clients: the key's effective permissions, client_id must be the key's id, failures count")
    func tokenClientAuthentication() throws {
        let h = try Harness()
        guard case .authenticated(let record, let permissions) = h.client(h.key, clientID: h.record.id) else {
            Issue.record("the key did not authenticate")
            return
        }
        #expect(record.id == h.record.id)
        #expect(ScopeGrant.covers(permissions, "memory:read"))   // from the reader role
        #expect(!ScopeGrant.covers(permissions, "admin:read"))
        #expect(h.client(h.key, clientID: "someone-else") == .refused(reason: "client_id_mismatch"))
        #expect(h.client("gw_nope") == .refused(reason: "apikey_malformed"))
        _ = h.client(h.key + "x")   // the third failure
        guard case .lockedOut(let retry) = h.client(h.key) else {
            Issue.record("three failures did not lock the address out")
            return
        }
        #expect(retry > 0)
        guard case .authenticated = h.client(h.key, peer: [192, 0, 2, 9]) else {
            Issue.record("another address was locked out too")
            return
        }
    }

    @Test("decision endpoint: nginx gets 403 for a rate limit, Traefik/Caddy the real 429; other codes are the same")
    func decisionModes() {
        #expect(OriginalRequest.Style.nginx.status(for: .rateLimited(retryAfter: 1)) == 403)
        #expect(OriginalRequest.Style.forwarded.status(for: .rateLimited(retryAfter: 1)) == 429)
        for error in [GatewayError.unauthorized, .invalidToken, .accessDenied, .routeNotFound, .invalidRequest] {
            #expect(OriginalRequest.Style.nginx.status(for: error) == error.status)
            #expect(OriginalRequest.Style.forwarded.status(for: error) == error.status)
        }
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, _ replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        return self[..<range.lowerBound] + replacement + self[range.upperBound...]
    }
}
