import GatewayCore
import GatewayCrypto

/// The credential a connection presented last and the identity it proved. Keep-alive clients
/// send the same token on every request; when the bytes match (compared in constant time)
/// within the same wall-clock second, under the same configuration and the same key-store
/// index, a fresh check would give exactly the same answer (expiry, grace periods and the
/// verified-token cache all work in whole seconds; revocations arrive as a new index), so the
/// hash and the shared cache are skipped. Connection-confined.
struct CredentialMemo {
    /// Credentials longer than this are not memoized (bounds the memory per connection).
    static let maxBytes = 2048

    private var bytes: [UInt8] = []
    private var second = -1
    private var runtimeGeneration = -1
    private var keyGeneration = -1
    private(set) var identity: Identity? = nil
    private(set) var renderKey = IdentityRenderKey.none

    /// The remembered identity when `presented` is the same credential, checked under the same
    /// second, configuration and key index; nil otherwise.
    func recall(_ presented: UnsafeRawBufferPointer, second: Int, runtimeGeneration: Int, keyGeneration: Int) -> Identity? {
        guard let identity, second == self.second, runtimeGeneration == self.runtimeGeneration,
              keyGeneration == self.keyGeneration else { return nil }
        return bytes.withUnsafeBytes { ConstantTime.equals($0, presented) } ? identity : nil
    }

    /// Remembers a successful check (credentials over `maxBytes` are forgotten instead).
    mutating func remember(
        _ presented: UnsafeRawBufferPointer, identity: Identity, renderKey: IdentityRenderKey,
        second: Int, runtimeGeneration: Int, keyGeneration: Int
    ) {
        guard presented.count <= Self.maxBytes else { return forget() }
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: presented)
        self.identity = identity
        self.renderKey = renderKey
        self.second = second
        self.runtimeGeneration = runtimeGeneration
        self.keyGeneration = keyGeneration
    }

    mutating func forget() {
        bytes.removeAll()
        identity = nil
        renderKey = .none
    }
}
