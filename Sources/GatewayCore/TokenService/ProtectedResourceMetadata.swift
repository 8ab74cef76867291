import GatewaySupport

/// OAuth 2.0 Protected Resource Metadata (RFC 9728), the discovery MCP clients use: a
/// `resource` URL (top level, or a route's own) is described by a document at its well-known
/// URL, and every 401 for it points there with `resource_metadata="..."`.
package enum ProtectedResource {
    /// The well-known path prefix (RFC 9728 §3).
    package static let wellKnownPrefix = "/.well-known/oauth-protected-resource"

    /// Why `url` cannot be a resource identifier, or nil when it can: an absolute `https` URL
    /// with a host, no user info, query or fragment (RFC 9728 §1.2), in visible ASCII without
    /// `"` or `\` (it travels in a quoted challenge parameter).
    package static func problem(_ url: String) -> String? {
        guard url.hasPrefix("https://") else { return "must be an https URL" }
        guard url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else {
            return "must be visible ASCII without quotes or backslashes"
        }
        let (authority, _) = split(url)
        if authority.isEmpty { return "has no host" }
        if authority.contains("@") { return "must not hold user info" }
        if url.contains("?") || url.contains("#") { return "must not have a query or fragment" }
        return nil
    }

    /// The path, on the gateway, of `resource`'s metadata: the well-known prefix followed by
    /// the resource's own path (RFC 9728 §3.1), without a trailing slash.
    package static func metadataPath(for resource: String) -> String {
        let path = split(resource).path
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return wellKnownPrefix + trimmed
    }

    /// The absolute URL of `resource`'s metadata (same scheme and authority, RFC 9728 §3.1).
    package static func metadataURL(for resource: String) -> String {
        "https://" + split(resource).authority + metadataPath(for: resource)
    }

    /// `, resource_metadata="URL"`: what a 401 challenge for `resource` adds after its other
    /// parameters (RFC 9728 §5.1).
    package static func challengeParameter(for resource: String) -> [UInt8] {
        Array(", resource_metadata=\"\(metadataURL(for: resource))\"".utf8)
    }

    /// The metadata document (RFC 9728 §2).
    /// - Parameters:
    ///   - authorizationServers: the issuers whose tokens the gateway accepts (its own first).
    ///   - scopes: the permissions this resource uses.
    package static func document(resource: String, authorizationServers: [String], scopes: [String]) -> [UInt8] {
        var document = JSONObjectWriter()
        document.string("resource", resource)
        document.strings("authorization_servers", authorizationServers)
        document.strings("scopes_supported", scopes)
        document.strings("bearer_methods_supported", ["header"])
        return document.finished()
    }

    /// Every document a configuration publishes, by its path on the gateway (a path served
    /// for two routes is the same resource, described with both routes' scopes).
    package static func documents(_ config: GatewayConfig) -> [String: [UInt8]] {
        var servers: [String] = []
        for issuer in [config.tokens?.issuer].compactMap({ $0 }) + config.jwt.map(\.issuer) where !servers.contains(issuer) {
            servers.append(issuer)
        }
        var scopesByResource: [String: Set<String>] = [:]
        if let resource = config.resource {
            scopesByResource[resource] = Set(TokenServiceDocuments.scopes(config))
        }
        for route in config.routes {
            guard let resource = route.resource else { continue }
            scopesByResource[resource, default: []].formUnion(route.require + route.requireAny)
        }
        var documents: [String: [UInt8]] = [:]
        for (resource, scopes) in scopesByResource {
            documents[metadataPath(for: resource)] = document(
                resource: resource, authorizationServers: servers, scopes: scopes.sorted())
        }
        return documents
    }

    /// `https://host:port/path` → (`host:port`, `/path`); the path is empty when absent.
    private static func split(_ url: String) -> (authority: String, path: String) {
        let rest = url.dropFirst("https://".count)
        guard let slash = rest.firstIndex(of: "/") else { return (String(rest), "") }
        return (String(rest[..<slash]), String(rest[slash...]))
    }
}
