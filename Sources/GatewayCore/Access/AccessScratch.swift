package import GatewayHTTP
package import GatewaySupport

/// Per-loop space the pipeline reuses for every request (loop-confined, never shared):
/// the normalized path, the captured path parameters, the current API-key index and the
/// rendered-identity cache.
package final class AccessScratch {
    /// The normalized path of the last decided request (the upstream receives exactly this).
    package var path: [UInt8] = []
    /// The path parameters the last route lookup captured (ranges into the routing path).
    package var routeParameters: [RouteParameter] = []
    /// `path` without the `;parameter` part of its segments (`/api/admin;x/y` is routed as
    /// `/api/admin/y`), built only when `path` has a `;`: Tomcat-style upstreams serve the
    /// path without them, so the route rules must see that path too; the upstream still
    /// receives `path` as it is.
    private var pathWithoutParameters: [UInt8] = []
    private var routesWithoutParameters = false
    /// The API-key index requests authenticate against (also the revoked `jti`s); nil without
    /// a store. Its generation tells the memo and the cache when a key may have changed.
    package private(set) var keyIndex: APIKeyIndex? = nil
    package private(set) var keyGeneration = -1
    /// Rendered identities per API key id or token hash, for one configuration and one key
    /// index (a key's identity changes only through the store, which makes a new index).
    private var renderCache: [IdentityRenderKey: RenderedIdentity] = [:]
    private var renderGeneration = -1
    private static let renderCacheLimit = 10_000
    /// JWT cache lookups on this loop: `jwtCacheHit` and `jwtCacheMiss` (the loop's metrics
    /// read them; a lookup adds one relaxed increment).
    package let jwtCache: CounterBlock
    package static let jwtCacheHit = 0
    package static let jwtCacheMiss = 1

    /// - Parameter jwtCache: where JWT cache lookups are counted (2 counters), e.g. the loop's metrics.
    package init(jwtCache: CounterBlock = CounterBlock(count: 2)) {
        self.jwtCache = jwtCache
        path.reserveCapacity(1024)
        routeParameters.reserveCapacity(8)
    }

    /// Normalizes a request path (empty means `/`) into `path` (SPEC §4), the first step of
    /// every access decision.
    /// - Returns: why the path is refused (400), or nil.
    package func normalize(_ range: ByteRange, _ bytes: UnsafeRawBufferPointer) -> PathError? {
        guard range.count > 0 else {
            path.removeAll(keepingCapacity: true)
            path.append(UInt8(ascii: "/"))
            return nil
        }
        do throws(PathError) {
            try PathNormalizer.normalize(UnsafeRawBufferPointer(rebasing: bytes[range.start..<range.start + range.count]), into: &path)
            routesWithoutParameters = path.contains(UInt8(ascii: ";"))
            if routesWithoutParameters { PathNormalizer.removeSegmentParameters(path, into: &pathWithoutParameters) }
            return nil
        } catch {
            path.removeAll(keepingCapacity: true)   // never a half-normalized path
            routesWithoutParameters = false
            return error
        }
    }

    /// The path routes match against (`path`, or `path` without segment parameters).
    package var routingPath: [UInt8] { routesWithoutParameters ? pathWithoutParameters : path }

    /// `routingPath`'s bytes, without a copy.
    package func withRoutingPath<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        routesWithoutParameters ? pathWithoutParameters.withUnsafeBytes(body) : path.withUnsafeBytes(body)
    }

    /// Installs the key index of `generation` (the loop calls this when the store watcher
    /// published a new one).
    package func useKeyIndex(_ index: APIKeyIndex?, generation: Int) {
        guard generation != keyGeneration else { return }
        keyIndex = index
        keyGeneration = generation
        renderCache.removeAll()
    }

    /// The bytes of a path parameter the last lookup captured.
    package func routeParameter(_ name: String) -> [UInt8]? {
        guard let parameter = routeParameters.first(where: { $0.name == name }) else { return nil }
        return withRoutingPath { Array($0[parameter.start..<parameter.start + parameter.count]) }
    }

    /// The identity's header block and effective permissions, computed once per key (and index
    /// generation) or token, and per configuration (roles may change on reload).
    func rendered(_ key: IdentityRenderKey, _ identity: Identity, roles: RoleTable, generation: Int) -> RenderedIdentity {
        if renderGeneration != generation {
            renderCache.removeAll()
            renderGeneration = generation
        }
        if key != .none, let cached = renderCache[key] { return cached }
        let rendered = RenderedIdentity(identity, roles: roles)
        guard key != .none else { return rendered }
        if renderCache.count >= Self.renderCacheLimit { renderCache.removeAll(keepingCapacity: true) }
        renderCache[key] = rendered
        return rendered
    }
}

@available(*, unavailable)
extension AccessScratch: Sendable {}
