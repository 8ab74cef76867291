private import COpenSSL

// @unchecked Sendable: as VerificationKey — the EVP_PKEY is read-only after load (OpenSSL 3
// allows concurrent signing with one key) and every signing context is created per call.
// The private key lives only in the EVP_PKEY, which OpenSSL wipes when EVP_PKEY_free runs in deinit.
/// A private key for minting tokens (token issue, identity tokens, token service).
package final class SigningKey: @unchecked Sendable {
    /// The one algorithm this key signs with.
    package let algorithm: JWSAlgorithm
    /// The public half (for HMAC, a key holding the same secret).
    package let verificationKey: VerificationKey
    /// The private EVP_PKEY and digest; nil for HMAC (which signs through `verificationKey`).
    private let owner: KeyMaterial?
    private let material: Material?

    private init(algorithm: JWSAlgorithm, verificationKey: VerificationKey, material owner: KeyMaterial?) {
        self.algorithm = algorithm
        self.verificationKey = verificationKey
        self.owner = owner
        material = owner?.value
    }

    /// An HMAC signing key (HS*); at least 32 bytes of secret.
    package convenience init(hmacSecret: [UInt8], algorithm: JWSAlgorithm) throws(CryptoError) {
        let key = try VerificationKey(hmacSecret: hmacSecret, algorithm: algorithm)
        self.init(algorithm: algorithm, verificationKey: key, material: nil)
    }

    /// A private key from PEM (PKCS#8 `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`):
    /// RSA of at least 2048 bits, EC on the algorithm's curve, or Ed25519. Encrypted keys are refused.
    package convenience init(privateKeyPEM: [UInt8], algorithm: JWSAlgorithm) throws(CryptoError) {
        guard algorithm.family != .hmac else {
            throw CryptoError("key type mismatch: \(algorithm.rawValue) needs an HMAC secret, not a private key")
        }
        let pkey = try Load.privateKey(pem: privateKeyPEM)
        // `material` owns the key from here on: a failure below frees it when it goes out of scope.
        let material = try Load.bind(pkey, algorithm: algorithm)
        // The public half travels through its DER encoding, so the verification key holds no private part.
        OpenSSLErrors.clear()
        let length = i2d_PUBKEY(pkey, nil)
        guard length > 0 else { throw .openSSL("cannot extract the public key") }
        var der = [UInt8](repeating: 0, count: Int(length))
        let publicKey: OpaquePointer? = der.withUnsafeMutableBufferPointer { buffer in
            var out: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            guard i2d_PUBKEY(pkey, &out) == length else { return nil }
            var cursor: UnsafePointer<UInt8>? = UnsafePointer(buffer.baseAddress)
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        guard let publicKey else { throw .openSSL("cannot extract the public key") }
        let verificationKey = try VerificationKey(ownedPublicKey: publicKey, algorithm: algorithm)
        self.init(algorithm: algorithm, verificationKey: verificationKey, material: material)
    }

    /// The JWS signature of `message`. ECDSA signatures are raw r||s (2 × 32/48/66 bytes).
    package func sign(_ message: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        guard let material else { return try verificationKey.mac(message) }
        guard case .pkey(let pkey, let digest, let curve) = material else { throw CryptoError("not a private key") }
        let signature = try Operation.sign(pkey, digest: digest, algorithm: algorithm, message: message)
        if let curve { return try Operation.rawECDSA(signature, size: curve.size) }
        return signature
    }

    /// The public key as JWK members (`kty`, `crv`, `n`, `e`, `x`, `y`); nil for HMAC.
    package func publicJWK() -> [(String, String)]? { verificationKey.publicJWK() }
}
