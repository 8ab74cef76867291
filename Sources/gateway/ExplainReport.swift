import GatewayCore
import GatewaySupport

/// What `gateway explain` found, stage by stage, printable as text or JSON.
struct ExplainReport {
    var signatureSkipped: Bool
    var parseError: String? = nil
    var method = ""
    var path: String? = nil
    var route: String? = nil
    var action: String? = nil
    var otherRoutes: [String] = []
    var authentication = "not needed (public route)"
    var rules: [(rule: String, outcome: String)] = []
    var rateLimit: String? = nil
    var refusal: DenyReason? = nil
    var identityHeaders: [String] = []

    var allowed: Bool { parseError == nil && refusal == nil && route != nil }

    /// Fills the report from a decision and its trace.
    mutating func record(_ result: AccessResult, trace: AccessTrace, loaded: LoadedConfig, scratch: AccessScratch) {
        for event in trace.events {
            switch event {
            case .route(let route):
                self.route = route.pattern
                action = Self.describe(route.action, loaded.config)
                otherRoutes.removeAll { $0 == route.pattern }
                authentication = route.needsAuthentication ? "no credential" : "not needed (public route)"
            case .anonymous:
                authentication = "none presented; forwarded anonymously (auth optional)"
            case .authenticated(let identity):
                authentication = "\(identity.method.rawValue) \"\(identity.userID)\""
                    + (identity.keyID.map { ", key id \($0)" } ?? "") + (signatureSkipped ? " (signature NOT checked: --claims)" : "")
            case .authorization:
                guard let route = result.route else { break }
                rules = Self.rules(route.authorization, result, scratch)
            case .rateLimit(let policy, let decision):
                rateLimit = "\(String(decoding: policy.policyHeaderValue, as: UTF8.self)): "
                    + (decision.allowed ? "\(decision.remaining) of \(decision.limit) left" : "over, retry in \(decision.retryAfterSeconds) s")
            }
        }
        // A credential the pipeline refused leaves no trace event: the refusal says why.
        if case .refuse(let reason) = result.verdict {
            switch reason {
            case .credentialInvalid, .credentialAmbiguous: authentication = "refused: \(reason.reason)"
            default: break
            }
        }
        identityHeaders = result.rendered.map {
            String(decoding: $0.headers, as: UTF8.self).split(separator: "\r\n").map(String.init)
        } ?? []
    }

    /// Each rule of the route checked alone, in the pipeline's order.
    private static func rules(_ rules: RouteAuthorization, _ result: AccessResult, _ scratch: AccessScratch) -> [(String, String)] {
        var checked: [(String, String)] = []
        func check(_ name: String, _ single: RouteAuthorization) {
            let outcome = single.evaluate(result.identity, result.rendered?.resolved, parameter: scratch.routeParameter)
            checked.append((name, outcome == .allowed ? "passes" : "fails (\(outcome))"))
        }
        if !rules.require.isEmpty {
            check("require \(rules.require.joined(separator: " "))", RouteAuthorization(require: rules.require, requireAny: [], requireRole: [], matchClaims: []))
        }
        if !rules.requireAny.isEmpty {
            check("require_any \(rules.requireAny.joined(separator: " "))", RouteAuthorization(require: [], requireAny: rules.requireAny, requireRole: [], matchClaims: []))
        }
        if !rules.requireRole.isEmpty {
            check("require_role \(rules.requireRole.joined(separator: " "))", RouteAuthorization(require: [], requireAny: [], requireRole: rules.requireRole, matchClaims: []))
        }
        for match in rules.matchClaims {
            check("match_claim \(match.claim.rawValue) {\(match.parameter)}", RouteAuthorization(require: [], requireAny: [], requireRole: [], matchClaims: [match]))
        }
        return checked
    }

    private static func describe(_ action: CompiledAction, _ config: GatewayConfig) -> String {
        switch action {
        case .upstream(let index): "upstream \(config.upstreams[index].name)"
        case .respond(let status, _): "respond \(status)"
        case .deny: "deny"
        }
    }

    /// The decision line: what the client (or the upstream) gets.
    private var decision: (verdict: String, status: Int, code: String?) {
        if parseError != nil { return ("refuse", 400, "invalid_request") }
        if let refusal { return ("refuse", refusal.error.status, "\(refusal.error.code)") }
        return ("allow", 200, nil)
    }

    func text() -> String {
        var lines: [String] = []
        func line(_ label: String, _ value: String) { lines.append(label.padding(12) + value) }
        if let parseError {
            line("request", "not valid HTTP: \(parseError)")
        } else {
            line("path", path ?? "refused before routing")
            line("route", route.map { "\($0) → \(action ?? "")" } ?? "none")
            for other in otherRoutes { line("  beat", other) }
            if route != nil { line("credential", authentication) }
            for (rule, outcome) in rules { line("rule", "\(rule): \(outcome)") }
            if let rateLimit { line("rate limit", rateLimit) }
        }
        let (verdict, status, code) = decision
        let reason = refusal.map { " (log reason \($0.reason))" } ?? ""
        line("decision", verdict == "allow" ? "allow" : "refuse: \(status) \(code ?? "")\(reason)")
        for header in identityHeaders { line("upstream", header) }
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        var out = JSONObjectWriter()
        let (verdict, status, code) = decision
        out.string("decision", verdict)
        out.integer("status", Int64(status))
        out.string("error", code)
        out.string("reason", refusal?.reason)
        out.string("parse_error", parseError)
        out.string("method", method)
        out.string("path", path)
        out.string("route", route)
        out.string("action", action)
        out.strings("other_routes", otherRoutes)
        out.string("authentication", route == nil ? nil : authentication)
        out.bool("signature_checked", !signatureSkipped)
        out.strings("rules", rules.map { "\($0.rule): \($0.outcome)" })
        out.string("rate_limit", rateLimit)
        out.strings("identity_headers", identityHeaders)
        return String(decoding: out.finished(), as: UTF8.self)
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
