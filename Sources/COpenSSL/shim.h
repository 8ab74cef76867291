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
#include <openssl/x509v3.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>

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

// TLS: SSL_CTX_ctrl / SSL_ctrl macros and composite constants.
/// TLS 1.2 and 1.3 only.
static inline int gw_ssl_ctx_set_protocols_12_13(SSL_CTX *ctx) {
    return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) && SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
}
/// Partial writes (a short SSL_write), a write buffer that may move between retries (the
/// connection's output buffer grows), and released read/write buffers while idle.
static inline void gw_ssl_ctx_set_nonblocking_modes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
}
/// No renegotiation, no compression, nothing older than TLS 1.2; a peer closing without
/// close_notify reads as an ordinary end of stream (HTTP framing decides completeness).
static inline uint64_t gw_ssl_hardening_options(void) {
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_ECDH_USE | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1
        | SSL_OP_NO_SSLv3 | SSL_OP_IGNORE_UNEXPECTED_EOF;
}
/// The server's cipher order wins (every suite on the list is strong; the order puts AES-GCM
/// with ECDSA first and keeps a client from steering to the weakest acceptable one).
static inline uint64_t gw_ssl_server_preference(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline int gw_ssl_ctx_set_groups(SSL_CTX *ctx, const char *list) { return (int)SSL_CTX_set1_groups_list(ctx, list); }
/// No server-side session cache (as nginx's default `ssl_session_cache none`): resumption is by
/// stateless tickets only, so no per-session state is kept or flushed.
static inline void gw_ssl_ctx_disable_session_cache(SSL_CTX *ctx) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}
static inline void gw_ssl_ctx_set_servername_callback(SSL_CTX *ctx, int (*callback)(SSL *, int *, void *), void *arg) {
    SSL_CTX_set_tlsext_servername_callback(ctx, callback);
    SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}
static inline int gw_ssl_set_host_name(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }
static inline int gw_ssl_tlsext_err_ok(void) { return SSL_TLSEXT_ERR_OK; }
static inline int gw_ssl_tlsext_err_noack(void) { return SSL_TLSEXT_ERR_NOACK; }
/// The OpenSSL error reason of a plain-HTTP request sent to a TLS port.
static inline int gw_ssl_reason_is_http_request(unsigned long code) {
    return ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_HTTP_REQUEST;
}
/// sk_GENERAL_NAME_* are macros over OPENSSL_sk_*.
static inline int gw_general_names_count(const GENERAL_NAMES *names) { return sk_GENERAL_NAME_num(names); }
static inline const GENERAL_NAME *gw_general_names_at(const GENERAL_NAMES *names, int index) {
    return sk_GENERAL_NAME_value(names, index);
}
static inline void gw_general_names_free(GENERAL_NAMES *names) { GENERAL_NAMES_free(names); }
/// A DNS, e-mail or URI subject alternative name's text (an IA5String), with its type
/// (GEN_DNS, GEN_EMAIL, GEN_URI); NULL for other kinds.
static inline const ASN1_STRING *gw_general_name_text(const GENERAL_NAME *name, int *type) {
    *type = name->type;
    if (name->type == GEN_DNS || name->type == GEN_EMAIL || name->type == GEN_URI) return name->d.ia5;
    return NULL;
}
static inline int gw_gen_dns(void) { return GEN_DNS; }
static inline int gw_gen_email(void) { return GEN_EMAIL; }
static inline int gw_gen_uri(void) { return GEN_URI; }
/// Session-ticket crypto for one key (RFC 5077 layout, as OpenSSL's own: AES-256-CBC and
/// HMAC-SHA256): sets up the cipher and MAC contexts the ticket callback is handed.
static inline int gw_ticket_crypto_init(EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac, const unsigned char *aesKey,
                                        const unsigned char *hmacKey, const unsigned char *iv, int encrypt) {
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)hmacKey, 32);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (EVP_MAC_CTX_set_params(mac, params) != 1) return 0;
    return EVP_CipherInit_ex(cipher, EVP_aes_256_cbc(), NULL, aesKey, iv, encrypt);
}
#endif
