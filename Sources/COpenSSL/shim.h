#ifndef GW_COPENSSL_SHIM_H
#define GW_COPENSSL_SHIM_H
// Only static inline gw_ wrappers for what Swift cannot import (macros, variadics). No logic.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/opensslv.h>
#include <openssl/sha.h>
#endif
