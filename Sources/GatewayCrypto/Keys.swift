private import COpenSSL

/// A never-null pointer for an input buffer (OpenSSL may reject a NULL pointer with length 0);
/// an empty buffer gets the address of a static empty string, which is never read.
private func bytePointer(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
    guard let base = buffer.baseAddress else { return ("" as StaticString).utf8Start }
    return base.assumingMemoryBound(to: UInt8.self)
}

/// What a loaded key holds, as the raw pointers the operations take. Owned by a `KeyMaterial`.
private enum Material {
    /// A template `EVP_MAC_CTX` keyed at load; duplicated per use, never used directly.
    case hmac(template: OpaquePointer)
    /// An `EVP_PKEY` (public or private) plus the fetched digest (nil for Ed25519).
    case pkey(OpaquePointer, digest: OpaquePointer?, curve: CurveInfo?)
}

/// The one owner of a key's OpenSSL objects: frees them once, when the last key holding it
/// goes (no code path frees them by hand).
// @unchecked Sendable: the pointers are only read after load (see VerificationKey).
private final class KeyMaterial: @unchecked Sendable {
    let value: Material

    init(_ value: Material) { self.value = value }

    deinit {
        switch value {
        case .hmac(let template): EVP_MAC_CTX_free(template)
        case .pkey(let pkey, let digest, _):
            EVP_PKEY_free(pkey)
            if let digest { EVP_MD_free(digest) }
        }
    }
}

/// Owns one OpenSSL object while it is being set up: freed when the owner goes out of scope
/// (an error path included) unless `release()` hands it to its long-term owner.
private struct OpenSSLObject: ~Copyable {
    let pointer: OpaquePointer
    private let free: @convention(c) (OpaquePointer?) -> Void

    init(_ pointer: OpaquePointer, free: @convention(c) (OpaquePointer?) -> Void) {
        self.pointer = pointer
        self.free = free
    }

    /// Ends this ownership without freeing: the caller now owns the pointer.
    consuming func release() -> OpaquePointer {
        let pointer = self.pointer
        discard self
        return pointer
    }

    deinit { free(pointer) }
}

/// A C string with static storage, for OSSL_PARAM keys: OSSL_PARAM_BLD keeps the key pointer
/// (it does not copy it), so a temporary bridged Swift string would dangle.
private func paramKey(_ key: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(key.utf8Start).assumingMemoryBound(to: CChar.self)
}

// MARK: - Loading helpers

private enum Load {
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

// MARK: - Operations

private enum Operation {
    /// Writes the HMAC of `message` to `out` (at least 64 bytes); returns the tag length or nil.
    static func hmac(_ template: OpaquePointer, _ message: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        // The template is only read by dup; the copy is private to this call.
        guard let context = EVP_MAC_CTX_dup(template) else { return nil }
        defer { EVP_MAC_CTX_free(context) }
        var length = 0
        guard EVP_MAC_update(context, bytePointer(message), message.count) == 1,
              EVP_MAC_final(context, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &length, out.count) == 1
        else {
            OpenSSLErrors.clear()
            return nil
        }
        return length
    }

    /// Sets RSA padding on a sign/verify context for RS* / PS*.
    static func configure(_ pctx: OpaquePointer?, algorithm: JWSAlgorithm, digest: OpaquePointer?, saltLength: Int32) -> Bool {
        switch algorithm.family {
        case .rsa:
            return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1
        case .rsaPSS:
            return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
                && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltLength) == 1
                && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, digest) == 1
        default:
            return true
        }
    }

    /// A verification context keyed and configured at load, for `verify` to copy; nil when this
    /// OpenSSL cannot copy it (then each call initialises its own context).
    static func verifyTemplate(_ pkey: OpaquePointer, digest: OpaquePointer?, algorithm: JWSAlgorithm) -> OpaquePointer? {
        defer { OpenSSLErrors.clear() }
        guard let raw = EVP_MD_CTX_new() else { return nil }
        let template = OpenSSLObject(raw, free: EVP_MD_CTX_free)
        var pctx: OpaquePointer?
        guard EVP_DigestVerifyInit(template.pointer, &pctx, digest, nil, pkey) == 1,
              configure(pctx, algorithm: algorithm, digest: digest, saltLength: Int32(algorithm.digestSize))
        else { return nil }
        // Probe once: copying must work for this key type before the hot path relies on it.
        guard let rawProbe = EVP_MD_CTX_new() else { return nil }
        let probe = OpenSSLObject(rawProbe, free: EVP_MD_CTX_free)
        guard EVP_MD_CTX_copy_ex(probe.pointer, template.pointer) == 1 else { return nil }
        return template.release()
    }

    static func verify(_ pkey: OpaquePointer, template: OpaquePointer?, digest: OpaquePointer?, algorithm: JWSAlgorithm,
                       signature: UnsafePointer<UInt8>, length: Int, message: UnsafeRawBufferPointer) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        let ready: Bool
        if let template {
            // The template is only read by the copy; the copy is private to this call.
            ready = EVP_MD_CTX_copy_ex(context, template) == 1
        } else {
            var pctx: OpaquePointer?
            ready = EVP_DigestVerifyInit(context, &pctx, digest, nil, pkey) == 1
                && configure(pctx, algorithm: algorithm, digest: digest, saltLength: Int32(algorithm.digestSize))
        }
        let ok = ready && EVP_DigestVerify(context, signature, length, bytePointer(message), message.count) == 1
        // A bad signature leaves entries on this thread's queue; they are not errors of ours.
        if !ok { OpenSSLErrors.clear() }
        return ok
    }

    /// Verifies a JWS ECDSA signature (raw r||s) by re-encoding it as DER.
    static func verifyECDSA(_ pkey: OpaquePointer, template: OpaquePointer?, digest: OpaquePointer?, curve: CurveInfo, algorithm: JWSAlgorithm,
                            signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> Bool {
        let size = curve.size
        guard signature.count == 2 * size else { return false }
        let r = UnsafeRawBufferPointer(rebasing: signature[0..<size])
        let s = UnsafeRawBufferPointer(rebasing: signature[size..<(2 * size)])
        guard curve.isValidScalar(r), curve.isValidScalar(s) else { return false }
        guard let sig = ECDSA_SIG_new() else { return false }
        defer { ECDSA_SIG_free(sig) }
        guard let rRaw = BN_bin2bn(bytePointer(r), Int32(size), nil) else { return false }
        let rNumber = OpenSSLObject(rRaw, free: BN_free)
        guard let sRaw = BN_bin2bn(bytePointer(s), Int32(size), nil) else { return false }
        let sNumber = OpenSSLObject(sRaw, free: BN_free)
        guard ECDSA_SIG_set0(sig, rNumber.pointer, sNumber.pointer) == 1 else {
            OpenSSLErrors.clear()
            return false
        }
        // The signature object owns both numbers now.
        _ = rNumber.release()
        _ = sNumber.release()
        // DER of two INTEGERs of at most 67 bytes each: well under 160 bytes.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 160) { buffer in
            guard i2d_ECDSA_SIG(sig, nil) <= Int32(buffer.count) else { return false }
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            let length = i2d_ECDSA_SIG(sig, &cursor)
            guard length > 0, let base = buffer.baseAddress else {
                OpenSSLErrors.clear()
                return false
            }
            return verify(pkey, template: template, digest: digest, algorithm: algorithm, signature: base, length: Int(length), message: message)
        }
    }

    static func sign(_ pkey: OpaquePointer, digest: OpaquePointer?, algorithm: JWSAlgorithm,
                     message: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        OpenSSLErrors.clear()
        guard let context = EVP_MD_CTX_new() else { throw .openSSL("out of memory") }
        defer { EVP_MD_CTX_free(context) }
        var pctx: OpaquePointer?
        guard EVP_DigestSignInit(context, &pctx, digest, nil, pkey) == 1,
              configure(pctx, algorithm: algorithm, digest: digest, saltLength: RSA_PSS_SALTLEN_DIGEST)
        else { throw .openSSL("cannot start \(algorithm.rawValue) signing") }
        var length = Int(EVP_PKEY_get_size(pkey))
        var out = [UInt8](repeating: 0, count: length)
        let ok = out.withUnsafeMutableBufferPointer {
            EVP_DigestSign(context, $0.baseAddress, &length, bytePointer(message), message.count)
        }
        guard ok == 1 else { throw .openSSL("\(algorithm.rawValue) signing failed") }
        out.removeSubrange(length...)
        return out
    }

    /// DER ECDSA signature → JWS raw r||s, each half `size` bytes.
    static func rawECDSA(_ der: [UInt8], size: Int) throws(CryptoError) -> [UInt8] {
        OpenSSLErrors.clear()
        let sig: OpaquePointer? = der.withUnsafeBufferPointer { bytes in
            var cursor: UnsafePointer<UInt8>? = bytes.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, bytes.count)
        }
        guard let sig else { throw .openSSL("cannot decode the ECDSA signature") }
        defer { ECDSA_SIG_free(sig) }
        var out = [UInt8](repeating: 0, count: 2 * size)
        let ok = out.withUnsafeMutableBufferPointer { buffer in
            BN_bn2binpad(ECDSA_SIG_get0_r(sig), buffer.baseAddress, Int32(size)) == Int32(size)
                && BN_bn2binpad(ECDSA_SIG_get0_s(sig), buffer.baseAddress! + size, Int32(size)) == Int32(size)
        }
        guard ok else { throw .openSSL("ECDSA signature does not fit the curve size") }
        return out
    }

    /// The JWK members of a public key: RSA n/e, EC crv/x/y, OKP crv/x.
    static func jwk(_ pkey: OpaquePointer, algorithm: JWSAlgorithm, curve: CurveInfo?) -> [(String, String)]? {
        defer { OpenSSLErrors.clear() }
        switch algorithm.family {
        case .hmac:
            return nil
        case .rsa, .rsaPSS:
            guard let n = bigNumber(pkey, "n", pad: nil), let e = bigNumber(pkey, "e", pad: nil) else { return nil }
            return [("kty", "RSA"), ("n", Base64URL.encode(n)), ("e", Base64URL.encode(e))]
        case .ecdsa:
            guard let curve, let x = bigNumber(pkey, "qx", pad: curve.size), let y = bigNumber(pkey, "qy", pad: curve.size) else { return nil }
            return [("kty", "EC"), ("crv", curve.jwkName), ("x", Base64URL.encode(x)), ("y", Base64URL.encode(y))]
        case .ed25519:
            var out = [UInt8](repeating: 0, count: 32)
            var length = 32
            guard out.withUnsafeMutableBufferPointer({ EVP_PKEY_get_raw_public_key(pkey, $0.baseAddress, &length) }) == 1, length == 32 else { return nil }
            return [("kty", "OKP"), ("crv", "Ed25519"), ("x", Base64URL.encode(out))]
        }
    }

    private static func bigNumber(_ pkey: OpaquePointer, _ name: String, pad: Int?) -> [UInt8]? {
        var number: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pkey, name, &number) == 1, let number else { return nil }
        defer { BN_free(number) }
        let count = pad ?? max(1, (Int(BN_num_bits(number)) + 7) / 8)
        var out = [UInt8](repeating: 0, count: count)
        let written = out.withUnsafeMutableBufferPointer { BN_bn2binpad(number, $0.baseAddress, Int32(count)) }
        return written == Int32(count) ? out : nil
    }
}

// MARK: - Public types

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
    fileprivate convenience init(ownedPublicKey pkey: OpaquePointer, algorithm: JWSAlgorithm) throws(CryptoError) {
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
    fileprivate func mac(_ message: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
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
