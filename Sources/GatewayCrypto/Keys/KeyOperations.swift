private import COpenSSL

/// The per-call OpenSSL work on a loaded key (MAC, verify, sign, JWK export); every context it
/// writes is created and freed within the call.
enum Operation {
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

