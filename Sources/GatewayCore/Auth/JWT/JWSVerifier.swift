/// Verifies one JWS signature with one key that is bound to one algorithm.
///
/// The signature layer (GatewayCrypto) provides the implementations (HMAC, RSA, RSA-PSS, ECDSA,
/// Ed25519); `JWTVerifier` only selects a verifier whose `algorithmName` equals the token's `alg`,
/// so a key is never used with another algorithm (RFC 8725 §3.1, alg confusion). Any thread.
package protocol JWSVerifier: Sendable {
    /// The JWS `alg` this key is bound to: `"HS256"`, `"ES256"`, `"EdDSA"`, ...
    var algorithmName: String { get }

    /// Whether `signature` (the decoded third segment) is valid for `message` (the ASCII bytes
    /// `header.payload`). Must run in constant time with respect to secret material.
    func verify(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> Bool
}
