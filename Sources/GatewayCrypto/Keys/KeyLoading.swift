private import COpenSSL

/// Turning secrets, PEM and JWK members into checked OpenSSL keys: every check a key must pass
/// (type, size, curve) happens here, once, at load.
enum Load {
    static let minimumHMACSecret = 32
    static let minimumRSABits: Int32 = 2048

    /// A keyed HMAC template context for `algorithm` (HS* only).
    static func hmac(secret: [UInt8], algorithm: JWSAlgorithm) throws(CryptoError) -> KeyMaterial {
        guard algorithm.family == .hmac, let digestName = algorithm.digestName else {
            throw CryptoError("key type mismatch: \(algorithm.rawValue) does not take an HMAC secret")
        }
        guard secret.count >= minimumHMACSecret else {
            throw CryptoError("weak key: HMAC secret has \(secret.count) bytes, need at least \(minimumHMACSecret)")
        }
        OpenSSLErrors.clear()
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { throw .openSSL("HMAC is unavailable") }
        defer { EVP_MAC_free(mac) }  // the context keeps its own reference
        guard let raw = EVP_MAC_CTX_new(mac) else { throw .openSSL("cannot create an HMAC context") }
        let context = OpenSSLObject(raw, free: EVP_MAC_CTX_free)
        let ok = digestName.withCString { name in
            "digest".withCString { key in
                var params = [
                    OSSL_PARAM_construct_utf8_string(key, UnsafeMutablePointer(mutating: name), 0),
                    OSSL_PARAM_construct_end(),
                ]
                return secret.withUnsafeBytes { bytes in
                    EVP_MAC_init(context.pointer, bytePointer(bytes), bytes.count, &params)
                }
            }
        }
        guard ok == 1 else { throw .openSSL("cannot key HMAC-\(digestName)") }
        return KeyMaterial(.hmac(template: context.release()))
    }

    /// Checks that `pkey` suits `algorithm` and fetches its digest. Takes ownership of `pkey`:
    /// on failure it is freed.
    static func bind(_ pkey: OpaquePointer, algorithm: JWSAlgorithm) throws(CryptoError) -> KeyMaterial {
        let owned = OpenSSLObject(pkey, free: EVP_PKEY_free)
        let curve = try check(owned.pointer, algorithm: algorithm)
        var digest: OpaquePointer?
        if let name = algorithm.digestName {
            OpenSSLErrors.clear()
            digest = EVP_MD_fetch(nil, name, nil)
            if digest == nil { throw .openSSL("digest \(name) is unavailable") }
        }
        return KeyMaterial(.pkey(owned.release(), digest: digest, curve: curve))
    }

    private static func check(_ pkey: OpaquePointer, algorithm: JWSAlgorithm) throws(CryptoError) -> CurveInfo? {
        switch algorithm.family {
        case .hmac:
            throw CryptoError("key type mismatch: \(algorithm.rawValue) needs an HMAC secret, not a public/private key")
        case .rsa, .rsaPSS:
            guard EVP_PKEY_is_a(pkey, "RSA") == 1 else {
                throw CryptoError("key type mismatch: \(algorithm.rawValue) needs an RSA key")
            }
            let bits = EVP_PKEY_get_bits(pkey)
            guard bits >= minimumRSABits else {
                throw CryptoError("weak key: RSA key has \(bits) bits, need at least \(minimumRSABits)")
            }
            try checkPublic(pkey)  // n odd, e odd and > 1 (JWK n/e are not checked elsewhere)
            return nil
        case .ecdsa:
            guard let curve = CurveInfo.forAlgorithm(algorithm) else { throw CryptoError("unsupported algorithm") }
            guard EVP_PKEY_is_a(pkey, "EC") == 1 else {
                throw CryptoError("key type mismatch: \(algorithm.rawValue) needs an EC key on \(curve.jwkName)")
            }
            var buffer = [CChar](repeating: 0, count: 64)
            var length = 0
            let ok = buffer.withUnsafeMutableBufferPointer { EVP_PKEY_get_group_name(pkey, $0.baseAddress, $0.count, &length) }
            let group = ok == 1 ? String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown"
            OpenSSLErrors.clear()
            guard group == curve.groupName else {
                throw CryptoError("curve mismatch: \(algorithm.rawValue) needs \(curve.jwkName), the key is on \(group)")
            }
            try checkPublic(pkey)
            return curve
        case .ed25519:
            guard EVP_PKEY_is_a(pkey, "ED25519") == 1 else {
                throw CryptoError("key type mismatch: EdDSA needs an Ed25519 key")
            }
            return nil
        }
    }

    /// The public key is sound: an EC point on the curve (not the identity); RSA n and e sane.
    static func checkPublic(_ pkey: OpaquePointer) throws(CryptoError) {
        OpenSSLErrors.clear()
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else { throw .openSSL("cannot check the key") }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_public_check(context) == 1 else { throw .openSSL("invalid public key") }
    }

    /// The first PEM block of `pem`: its label and DER body.
    static func pemBlock(_ pem: [UInt8]) throws(CryptoError) -> (label: String, der: [UInt8]) {
        OpenSSLErrors.clear()
        let result: (String, [UInt8])? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytePointer(bytes), Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            var name: UnsafeMutablePointer<CChar>?
            var header: UnsafeMutablePointer<CChar>?
            var data: UnsafeMutablePointer<UInt8>?
            var length = 0
            guard PEM_read_bio(bio, &name, &header, &data, &length) == 1 else { return nil }
            defer {
                gw_openssl_free(name)
                gw_openssl_free(header)
                if let data { OPENSSL_cleanse(data, length) }
                gw_openssl_free(data)
            }
            guard let name, let data else { return nil }
            return (String(cString: name), Array(UnsafeBufferPointer(start: data, count: length)))
        }
        guard let result else { throw .openSSL("not a PEM file") }
        return result
    }

    /// A public key from a PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE PEM block.
    static func publicKey(pem: [UInt8]) throws(CryptoError) -> OpaquePointer {
        let (label, der) = try pemBlock(pem)
        OpenSSLErrors.clear()
        let pkey: OpaquePointer? = der.withUnsafeBytes { bytes in
            var cursor: UnsafePointer<UInt8>? = bytePointer(bytes)
            switch label {
            case "PUBLIC KEY":
                return d2i_PUBKEY(nil, &cursor, bytes.count)
            case "RSA PUBLIC KEY":
                return d2i_PublicKey(EVP_PKEY_RSA, nil, &cursor, bytes.count)
            case "CERTIFICATE":
                guard let certificate = d2i_X509(nil, &cursor, bytes.count) else { return nil }
                defer { X509_free(certificate) }
                return X509_get_pubkey(certificate)
            default:
                return nil
            }
        }
        guard let pkey else {
            if !["PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE"].contains(label) {
                throw CryptoError("unsupported PEM block \"\(label)\": need PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE")
            }
            throw .openSSL("cannot parse the \(label) PEM block")
        }
        return pkey
    }

    /// A private key from PEM (PKCS#8, or traditional RSA/EC). Encrypted keys are refused.
    static func privateKey(pem: [UInt8]) throws(CryptoError) -> OpaquePointer {
        OpenSSLErrors.clear()
        let pkey: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytePointer(bytes), Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            // No passphrase: an encrypted key fails instead of prompting on the terminal.
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let pkey else { throw .openSSL("cannot parse the private key PEM") }
        return pkey
    }

    /// Builds a public key of `type` ("RSA", "EC") from OSSL_PARAMs made by `push`.
    static func fromData(type: String, _ push: (OpaquePointer) -> Bool) throws(CryptoError) -> OpaquePointer {
        OpenSSLErrors.clear()
        guard let builder = OSSL_PARAM_BLD_new() else { throw .openSSL("out of memory") }
        defer { OSSL_PARAM_BLD_free(builder) }
        guard push(builder), let params = OSSL_PARAM_BLD_to_param(builder) else { throw .openSSL("cannot build key parameters") }
        defer { OSSL_PARAM_free(params) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { throw .openSSL("\(type) is unavailable") }
        defer { EVP_PKEY_CTX_free(context) }
        var pkey: OpaquePointer?
        guard EVP_PKEY_fromdata_init(context) == 1,
              EVP_PKEY_fromdata(context, &pkey, gw_evp_pkey_public_key(), params) == 1,
              let pkey
        else { throw .openSSL("invalid \(type) public key") }
        return pkey
    }
}

