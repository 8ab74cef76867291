private import COpenSSL


/// A never-null pointer for an input buffer (OpenSSL may reject a NULL pointer with length 0);
/// an empty buffer gets the address of a static empty string, which is never read.
func bytePointer(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
    guard let base = buffer.baseAddress else { return ("" as StaticString).utf8Start }
    return base.assumingMemoryBound(to: UInt8.self)
}

/// What a loaded key holds, as the raw pointers the operations take. Owned by a `KeyMaterial`.
enum Material {
    /// A template `EVP_MAC_CTX` keyed at load; duplicated per use, never used directly.
    case hmac(template: OpaquePointer)
    /// An `EVP_PKEY` (public or private) plus the fetched digest (nil for Ed25519).
    case pkey(OpaquePointer, digest: OpaquePointer?, curve: CurveInfo?)
}

/// The one owner of a key's OpenSSL objects: frees them once, when the last key holding it
/// goes (no code path frees them by hand).
// @unchecked Sendable: the pointers are only read after load (see VerificationKey).
final class KeyMaterial: @unchecked Sendable {
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
struct OpenSSLObject: ~Copyable {
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
func paramKey(_ key: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(key.utf8Start).assumingMemoryBound(to: CChar.self)
}

