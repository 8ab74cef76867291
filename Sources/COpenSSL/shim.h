#ifndef GW_COPENSSL_SHIM_H
#define GW_COPENSSL_SHIM_H
// Only static inline gw_ wrappers for what Swift cannot import (macros, variadics). No logic.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/opensslv.h>
#include <openssl/sha.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/// OPENSSL_free is a function-like macro (it passes __FILE__/__LINE__).
static inline void gw_openssl_free(void *pointer) { OPENSSL_free(pointer); }
/// EVP_PKEY_PUBLIC_KEY is a composite selection macro.
static inline int gw_evp_pkey_public_key(void) { return EVP_PKEY_PUBLIC_KEY; }
/// SHA-256 without a provider fetch: OpenSSL 3's one-shot SHA256() goes through
/// EVP_Q_digest, which fetches the algorithm (a lock and a table lookup) on every call. The
/// low-level functions are deprecated for new code but remain the allocation- and lock-free path.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
static inline void gw_sha256(const void *data, size_t count, void *digest) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, data, count);
    SHA256_Final((unsigned char *)digest, &context);
    OPENSSL_cleanse(&context, sizeof context);
}
#pragma clang diagnostic pop
#endif
