import GatewayCrypto

/// An immutable in-memory index of API keys for the request path (no SQLite access).
/// Built from the store's snapshot (`GatewayStore`); the server swaps in a new index when the
/// store's change counter moves. Any thread.
package final class APIKeyIndex: Sendable {
    private let byID: [String: KeyRecord]
    private let byLegacyHash: [[UInt8]: KeyRecord]
    /// Every key by id, legacy ones included (for tokens exchanged from a key).
    private let everyKey: [String: KeyRecord]
    private let revokedTokenIDs: Set<String>
    /// Per principal: tokens of the gateway's own issued before this time are revoked.
    private let principalRevocations: [String: Int]
    /// The change counter of the snapshot this index was built from.
    package let changeCounter: Int

    /// An index over `records` (as returned by `KeyStore.loadIndexSnapshot()`).
    package init(
        records: [KeyRecord], changeCounter: Int = 0, revokedTokenIDs: [String] = [], principalRevocations: [String: Int] = [:]
    ) {
        var byID: [String: KeyRecord] = [:]
        var byLegacyHash: [[UInt8]: KeyRecord] = [:]
        for record in records {
            if let legacy = record.legacyHash {
                byLegacyHash[legacy] = record
            } else if record.secretHash != nil {
                byID[record.id] = record
            }
        }
        self.byID = byID
        everyKey = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.byLegacyHash = byLegacyHash
        self.changeCounter = changeCounter
        self.revokedTokenIDs = Set(revokedTokenIDs)
        self.principalRevocations = principalRevocations
    }

    /// When tokens of principal `principal` must have been issued after, if ever revoked.
    package func tokensRevokedBefore(principal: String) -> Int? {
        principalRevocations.isEmpty ? nil : principalRevocations[principal]
    }

    /// Whether a token id (`jti`) is revoked (SPEC §5). The token's own `exp` bounds the entry.
    package func isTokenRevoked(_ jti: String) -> Bool { revokedTokenIDs.contains(jti) }

    /// Key `id` when it would still authenticate at `now` (Unix seconds): a token exchanged
    /// for a revoked, expired or rotated-away key is refused with it (SPEC §10), and spends
    /// the key's bucket under its stored limit.
    package func usableKey(id: String, now: Int) -> KeyRecord? {
        guard let record = everyKey[id], case .success = usable(record, now: now) else { return nil }
        return record
    }

    /// Number of indexed keys.
    package var count: Int { byID.count + byLegacyHash.count }

    /// Authenticates a presented key at `now` (Unix seconds).
    ///
    /// Keys with one of `prefixes` are checked for shape and checksum, looked up by id, and
    /// their secret's SHA-256 is compared in constant time. Keys with one of `legacyPrefixes`
    /// (when not a well-formed new key) are looked up by the SHA-256 of the whole key.
    /// The failure reason is for logs only; callers answer every failure identically.
    package func authenticate(presented: [UInt8], prefixes: [String], legacyPrefixes: [String] = [], now: Int) -> Result<KeyRecord, APIKeyFailure> {
        presented.withUnsafeBytes { authenticate(presented: $0, prefixes: prefixes, legacyPrefixes: legacyPrefixes, now: now) }
    }

    /// `authenticate` over raw bytes.
    package func authenticate(presented: UnsafeRawBufferPointer, prefixes: [String], legacyPrefixes: [String] = [], now: Int) -> Result<KeyRecord, APIKeyFailure> {
        let parsed = APIKeyFormat.check(presented, prefixes: prefixes)
        switch parsed {
        case .success(let key):
            guard let record = byID[key.id] else { return .failure(.unknownID) }
            guard let stored = record.secretHash,
                  ConstantTime.equals(Digest.sha256(key.secret), stored) else { return .failure(.wrongSecret) }
            return usable(record, now: now)
        case .failure(let failure):
            guard legacyPrefixes.contains(where: { presented.starts(with: $0.utf8) }) else { return .failure(failure) }
            // The dictionary lookup is by a hash of the secret; the key itself is never compared.
            guard let record = byLegacyHash[Digest.sha256(presented)] else { return .failure(.unknownID) }
            return usable(record, now: now)
        }
    }

    private func usable(_ record: KeyRecord, now: Int) -> Result<KeyRecord, APIKeyFailure> {
        if !record.active { return .failure(.inactive) }
        if let grace = record.graceUntil, now >= grace { return .failure(.inactive) }
        if let expires = record.expiresAt, now >= expires { return .failure(.expired) }
        return .success(record)
    }
}
