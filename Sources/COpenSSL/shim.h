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
#endif
