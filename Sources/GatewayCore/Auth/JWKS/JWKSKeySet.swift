package import GatewayCrypto

/// One key of a fetched JWKS: its `kid` (optional in a JWKS) and its verifier, bound to one
/// algorithm exactly as `JWKSLoader` binds `jwks_file` keys.
package struct JWKSKey: Sendable {
    package let kid: String?
    /// `verifier.algorithm.rawValue`, kept as the string the token's `alg` is compared with.
    package let algorithm: String
    package let verifier: VerificationKey

    package init(kid: String?, verifier: VerificationKey) {
        self.kid = kid
        self.algorithm = verifier.algorithmName
        self.verifier = verifier
    }
}

/// The last good key set of one JWKS URL: immutable, so a verification reads it with one
/// locked pointer copy and then uses it without any lock while a refresh publishes the next.
package final class JWKSKeySet: Sendable {
    package let keys: [JWKSKey]
    /// 0 before the first successful fetch, then 1, 2, ... per published set.
    package let generation: Int

    package init(keys: [JWKSKey], generation: Int) {
        self.keys = keys
        self.generation = generation
    }

    /// The set of a source that has not fetched successfully yet.
    package static let empty = JWKSKeySet(keys: [], generation: 0)
}
