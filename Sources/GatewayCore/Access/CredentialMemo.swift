import GatewayCrypto

/// How a credential was presented and which authenticator checks it: part of the memo's key,
/// because the same bytes as an API key and as a JWT (or in another header) are different
/// questions with different answers.
package struct Credential: Equatable, Sendable {
    package enum Source: Equatable, Sendable {
        /// `Authorization: Bearer`.
        case bearer
        /// The configured API-key header.
        case keyHeader
        /// `?access_token=` on an `allow_query_token` route.
        case query
    }

    /// Checked by the API-key index (else by the JWT verifier).
    package var isAPIKey: Bool
    package var source: Source

    package init(isAPIKey: Bool, source: Source) {
        self.isAPIKey = isAPIKey
        self.source = source
    }
}

/// The credential a connection presented last and the identity it proved. Keep-alive clients
/// send the same token on every request; when the bytes match (compared in constant time),
/// presented the same way to the same authenticator, within the same wall-clock second, under
/// the same configuration and the same key-store index, a fresh check would give exactly the
/// same answer (expiry, grace periods and the verified-token cache all work in whole seconds;
/// revocations arrive as a new index), so the hash and the shared cache are skipped.
/// Connection-confined.
package struct CredentialMemo {
    /// Credentials longer than this are not memoized (bounds the memory per connection).
    package static let maxBytes = 2048

    private var bytes: [UInt8] = []
    private var credential = Credential(isAPIKey: false, source: .bearer)
    private var second = -1
    private var runtimeGeneration = -1
    private var keyGeneration = -1
    package private(set) var identity: Identity? = nil
    package private(set) var renderKey = IdentityRenderKey.none

    /// The remembered identity when `presented` is the same credential, presented the same way,
    /// checked under the same second, configuration and key index; nil otherwise.
    package func recall(
        _ presented: UnsafeRawBufferPointer, as credential: Credential, second: Int, runtimeGeneration: Int, keyGeneration: Int
    ) -> Identity? {
        guard let identity, credential == self.credential, second == self.second,
              runtimeGeneration == self.runtimeGeneration, keyGeneration == self.keyGeneration else { return nil }
        return bytes.withUnsafeBytes { ConstantTime.equals($0, presented) } ? identity : nil
    }

    /// Remembers a successful check (credentials over `maxBytes` are forgotten instead).
    package mutating func remember(
        _ presented: UnsafeRawBufferPointer, as credential: Credential, identity: Identity, renderKey: IdentityRenderKey,
        second: Int, runtimeGeneration: Int, keyGeneration: Int
    ) {
        guard presented.count <= Self.maxBytes else { return forget() }
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: presented)
        self.credential = credential
        self.identity = identity
        self.renderKey = renderKey
        self.second = second
        self.runtimeGeneration = runtimeGeneration
        self.keyGeneration = keyGeneration
    }

    package mutating func forget() {
        bytes.removeAll()
        identity = nil
        renderKey = .none
    }
}
