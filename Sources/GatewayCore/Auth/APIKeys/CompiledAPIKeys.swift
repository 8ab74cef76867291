package import GatewayHTTP

/// `api_keys` resolved for the request path.
package struct CompiledAPIKeys: Sendable {
    /// The key header's name, lower-case.
    package let headerName: [UInt8]
    package let bearer: Bool
    package let prefixes: [String]
    package let legacyPrefixes: [String]
    private let allPrefixes: [[UInt8]]

    package init(_ config: APIKeysConfig) {
        headerName = Array(config.header.lowercased().utf8)
        bearer = config.bearer
        prefixes = config.prefixes
        legacyPrefixes = config.legacyPrefixes
        allPrefixes = (config.prefixes + config.legacyPrefixes).map { Array($0.utf8) }
    }

    package func isKeyHeader(_ field: HeaderField, _ bytes: UnsafeRawBufferPointer) -> Bool {
        ByteCompare.nameEquals(field, bytes, headerName)
    }

    package func hasKeyPrefix(_ bytes: UnsafeRawBufferPointer, _ token: ByteRange) -> Bool {
        hasKeyPrefix(UnsafeRawBufferPointer(rebasing: bytes[token.start..<token.start + token.count]))
    }

    package func hasKeyPrefix(_ token: UnsafeRawBufferPointer) -> Bool {
        allPrefixes.contains { prefix in prefix.count <= token.count && prefix.indices.allSatisfy { token[$0] == prefix[$0] } }
    }
}

extension Identity {
    /// The identity of an API key's principal (SPEC §5).
    package init(apiKey record: KeyRecord) {
        self.init(
            userID: record.principalID, orgID: record.orgID, email: nil, name: nil,
            permissions: record.permissions, roles: record.roles, method: .apiKey, keyID: record.id,
            tokenID: nil, expiresAt: record.expiresAt.map(Int64.init), subject: record.principalID)
        rateLimit = record.rateLimit
    }
}
