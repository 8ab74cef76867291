import GatewayCore

/// `/readyz` (SPEC §15): whether this instance can serve what its configuration promises. A
/// load balancer sends traffic only to a ready instance. The configuration is loaded and the
/// listeners are bound by the time anything answers; what can still be missing is a running
/// drain, the key store's index, and the keys of a `jwks_url` that never answered.
enum Readiness {
    /// Why the instance is not ready (empty when it is), as short lines for operators (URLs
    /// and paths the configuration names; never a key or token).
    static func problems(loop: EventLoop, runtime: Runtime) -> [String] {
        var problems: [String] = []
        if loop.isDraining { problems.append("draining") }
        if runtime.config.storePath != nil && loop.shared.keys == nil { problems.append("key store index not loaded") }
        for source in runtime.keySources where source.currentKeys.generation == 0 {
            problems.append("no keys fetched yet from \(source.url.description) (issuer \(source.issuer))")
        }
        return problems
    }
}
