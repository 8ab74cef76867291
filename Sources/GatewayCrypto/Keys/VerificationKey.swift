private import COpenSSL

// @unchecked Sendable: the handles are set once in init and never change. The EVP_PKEY is only
// read (OpenSSL 3 allows concurrent verification with one key); the template contexts (HMAC
// EVP_MAC_CTX, public-key EVP_MD_CTX) are only read, by EVP_MAC_CTX_dup / EVP_MD_CTX_copy_ex
// (STYLE §4.9: pre-key at load, duplicate per use); every context that is written is created
// per call and freed before the call returns.
//
// Secret handling: no HMAC key bytes are kept in Swift memory. The secret lives only inside the
// keyed EVP_MAC_CTX, which OpenSSL wipes (OPENSSL_cleanse) when EVP_MAC_CTX_free runs in deinit;
// computed tags are wiped after comparison and PEM bodies after parsing.
/// A key bound to ONE algorithm, parsed once at load; `verify` is thread-safe and does no key parsing.
package final class VerificationKey: @unchecked Sendable {
    /// The one algorithm this key verifies.
    package let algorithm: JWSAlgorithm
    private let owner: KeyMaterial
    private let material: Material
    /// A pre-keyed `EVP_MD_CTX` (DigestVerifyInit done, padding set) copied per verification;
    /// owned by this key.
    private let template: OpaquePointer?

    private init(algorithm: JWSAlgorithm, material owner: KeyMaterial) {
        self.algorithm = algorithm
        self.owner = owner
        material = owner.value
        if case .pkey(let pkey, let digest, _) = material {
            template = Operation.verifyTemplate(pkey, digest: digest, algorithm: algorithm)
        } else {
            template = nil
        }
    }

    deinit {
        EVP_MD_CTX_free(template)
    }

    /// An HMAC key (HS256/384/512). A secret shorter than 32 bytes is a weak key.
    package convenience init(hmacSecret: [UInt8], algorithm: JWSAlgorithm) throws(CryptoError) {
        self.init(algorithm: algorithm, material: try Load.hmac(secret: hmacSecret, algorithm: algorithm))
    }

    /// A public key from PEM: `PUBLIC KEY`, `RSA PUBLIC KEY` or `CERTIFICATE` (its public key).
    /// RSA keys (RS*/PS* only) need at least 2048 bits; EC keys must be on the algorithm's curve
    /// (ES256 P-256, ES384 P-384, ES512 P-521); EdDSA needs Ed25519.
    package convenience init(pem: [UInt8], algorithm: JWSAlgorithm) throws(CryptoError) {
        guard algorithm.family != .hmac else {
            throw CryptoError("key type mismatch: \(algorithm.rawValue) needs an HMAC secret, not a PEM key")
        }
        let pkey = try Load.publicKey(pem: pem)
        self.init(algorithm: algorithm, material: try Load.bind(pkey, algorithm: algorithm))
    }

    /// An RSA public key from a JWK's `n` and `e` (big-endian bytes), for RS* / PS*.
    package convenience init(rsaModulus n: [UInt8], exponent e: [UInt8], algorithm: JWSAlgorithm) throws(CryptoError) {
        guard algorithm.family == .rsa || algorithm.family == .rsaPSS else {
            throw CryptoError("key type mismatch: \(algorithm.rawValue) does not take an RSA key")
        }
        guard !n.isEmpty, !e.isEmpty else { throw CryptoError("invalid RSA public key: empty n or e") }
        let nNumber = n.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        let eNumber = e.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        // The builder keeps the BIGNUM pointers until OSSL_PARAM_BLD_to_param copies them,
        // which happens inside fromData; the numbers are freed after it returns.
        defer {
            BN_free(nNumber)
            BN_free(eNumber)
        }
        guard let nNumber, let eNumber else { throw .openSSL("out of memory") }
        let pkey = try Load.fromData(type: "RSA") { builder in
            OSSL_PARAM_BLD_push_BN(builder, paramKey("n"), nNumber) == 1 && OSSL_PARAM_BLD_push_BN(builder, paramKey("e"), eNumber) == 1
        }
        self.init(algorithm: algorithm, material: try Load.bind(pkey, algorithm: algorithm))
    }

    /// An EC public key from a JWK's `x` and `y` (each exactly the curve's size); the curve
    /// follows the algorithm and the point must be on it.
    package convenience init(ecX: [UInt8], y: [UInt8], algorithm: JWSAlgorithm) throws(CryptoError) {
        guard let curve = CurveInfo.forAlgorithm(algorithm) else {
            throw CryptoError("key type mismatch: \(algorithm.rawValue) does not take an EC key")
        }
        guard ecX.count == curve.size, y.count == curve.size else {
            throw CryptoError("invalid EC public key: x and y must be \(curve.size) bytes for \(curve.jwkName)")
        }
        let point = [0x04] + ecX + y
        let built: Result<OpaquePointer, CryptoError> = point.withUnsafeBytes { pointBytes in
            curve.groupName.withCString { group in
                Result { () throws(CryptoError) in
                    try Load.fromData(type: "EC") { builder in
                        OSSL_PARAM_BLD_push_utf8_string(builder, paramKey("group"), group, 0) == 1
                            && OSSL_PARAM_BLD_push_octet_string(builder, paramKey("pub"), pointBytes.baseAddress, pointBytes.count) == 1
                    }
                }
            }
        }
        let pkey = try built.get()
        self.init(algorithm: algorithm, material: try Load.bind(pkey, algorithm: algorithm))
    }

    /// An Ed25519 public key from its 32 raw bytes (a JWK's `x`), for EdDSA.
    package convenience init(ed25519PublicKey: [UInt8]) throws(CryptoError) {
        guard ed25519PublicKey.count == 32 else { throw CryptoError("invalid Ed25519 public key: need 32 bytes") }
        OpenSSLErrors.clear()
        let pkey = ed25519PublicKey.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
        }
        guard let pkey else { throw .openSSL("invalid Ed25519 public key") }
        self.init(algorithm: .edDSA, material: try Load.bind(pkey, algorithm: .edDSA))
    }

    /// Takes ownership of a public `EVP_PKEY` already checked for `algorithm`.
    convenience init(ownedPublicKey pkey: OpaquePointer, algorithm: JWSAlgorithm) throws(CryptoError) {
        self.init(algorithm: algorithm, material: try Load.bind(pkey, algorithm: algorithm))
    }

    /// True when `signature` is a valid JWS signature of `message` under this key's algorithm.
    /// HMAC tags are compared in full and in constant time (a truncated tag is false); ECDSA
    /// signatures must be raw r||s of the curve's size with 0 < r, s < n. Any thread.
    package func verify(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> Bool {
        switch material {
        case .hmac(let template):
            let size = algorithm.digestSize
            guard signature.count == size else { return false }
            return withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { tag in
                guard Operation.hmac(template, message, into: tag) == size, let base = tag.baseAddress else { return false }
                let equal = CRYPTO_memcmp(base, signature.baseAddress, size) == 0
                OPENSSL_cleanse(base, size)
                return equal
            }
        case .pkey(let pkey, let digest, let curve):
            if let curve {
                return Operation.verifyECDSA(pkey, template: template, digest: digest, curve: curve, algorithm: algorithm, signature: signature, message: message)
            }
            guard !signature.isEmpty else { return false }
            return Operation.verify(pkey, template: template, digest: digest, algorithm: algorithm, signature: bytePointer(signature), length: signature.count, message: message)
        }
    }

    /// The HMAC tag of `message` (HS* keys only).
    func mac(_ message: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        guard case .hmac(let template) = material else { throw CryptoError("not an HMAC key") }
        var out = [UInt8](repeating: 0, count: 64)
        OpenSSLErrors.clear()
        let length = out.withUnsafeMutableBytes { Operation.hmac(template, message, into: $0) }
        guard let length else { throw .openSSL("HMAC failed") }
        out.removeSubrange(length...)
        return out
    }

    /// The public key as JWK members (`kty`, `crv`, `n`, `e`, `x`, `y`; base64url without
    /// padding); nil for HMAC.
    package func publicJWK() -> [(String, String)]? {
        guard case .pkey(let pkey, _, let curve) = material else { return nil }
        return Operation.jwk(pkey, algorithm: algorithm, curve: curve)
    }
}

