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
#include <openssl/ocsp.h>
#include <time.h>
#include <errno.h>

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
/// Partial writes (a short SSL_write) and a write buffer that may move between retries (the
/// connection's output buffer grows). Read-ahead: one read() takes whatever the socket holds
/// (several records, or a record's header and body together) instead of a 5-byte header read
/// and then a body read per record. Record buffers are kept for the connection's life: giving
/// them back whenever they empty (SSL_MODE_RELEASE_BUFFERS) costs a malloc/free pair per
/// record, measured at about 15% more CPU per keep-alive request, and saved no memory (1,000
/// idle TLS connections: 46 KiB each with it, 36 KiB without; Benchmarks/idle_connections.py).
static inline void gw_ssl_ctx_set_nonblocking_modes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
}
/// The last raw read() OpenSSL made on a session's socket: how much it asked for and got. A
/// short read means the socket was drained then (as for a plain socket), so the event loop can
/// wait for the next epoll edge instead of spending one more read() on EAGAIN.
typedef struct {
    size_t requested;
    size_t received;
} gw_read_probe;

static inline long gw_read_probe_callback(BIO *bio, int operation, const char *argp, size_t length, int argi, long argl,
                                          int ret, size_t *processed) {
    (void)argp; (void)argi; (void)argl;
    if (operation == (BIO_CB_READ | BIO_CB_RETURN)) {
        gw_read_probe *probe = (gw_read_probe *)BIO_get_callback_arg(bio);
        if (probe != NULL) {
            probe->requested = length;
            probe->received = ret > 0 && processed != NULL ? *processed : 0;
        }
    }
    return ret;
}

/// Watches the reads of the socket BIO `SSL_set_fd` made for `ssl`.
static inline void gw_ssl_install_read_probe(SSL *ssl, gw_read_probe *probe) {
    BIO *bio = SSL_get_rbio(ssl);
    if (bio == NULL) return;
    BIO_set_callback_arg(bio, (char *)probe);
    BIO_set_callback_ex(bio, gw_read_probe_callback);
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
/// No tickets issued or accepted (TLS 1.2 and 1.3); with the session cache off as well,
/// nothing resumes.
static inline void gw_ssl_ctx_disable_tickets(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
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
// OCSP stapling (`ocsp_response file:…`): the response is checked once at load, then handed
// to every handshake that asks for certificate status until its nextUpdate passes.
/// A loaded OCSP response: DER bytes (OPENSSL_malloc'd) and when it stops being fresh (0: no
/// nextUpdate, fresh until replaced). Owned by the Swift `OCSPStaple` that made it.
typedef struct {
    unsigned char *der;
    int length;
    time_t next_update;
} gw_ocsp_staple;

/// What loading an OCSP response found.
enum {
    GW_OCSP_GOOD = 0,
    GW_OCSP_UNREADABLE = 1,
    GW_OCSP_NOT_A_RESPONSE = 2,
    GW_OCSP_UNSUCCESSFUL = 3,
    GW_OCSP_NO_ISSUER = 4,
    GW_OCSP_NOT_FOR_CERTIFICATE = 5,
    GW_OCSP_BAD_SIGNATURE = 6,
    GW_OCSP_REVOKED = 7,
    GW_OCSP_UNKNOWN = 8,
    GW_OCSP_EXPIRED = 9,
    GW_OCSP_NOT_YET_VALID = 10,
};

static inline time_t gw_asn1_time_to_epoch(const ASN1_GENERALIZEDTIME *value) {
    struct tm parts;
    if (value == NULL || ASN1_TIME_to_tm(value, &parts) != 1) return 0;
    return timegm(&parts);
}

/// Checks an OCSP response against the context's leaf certificate: a successful basic
/// response, signed by the leaf's issuer (found in the loaded chain) or a responder it
/// delegated to, with a `good` status for the leaf, current now. Sets `next_update`.
static inline int gw_ocsp_check(SSL_CTX *ctx, OCSP_RESPONSE *response, time_t *next_update) {
    *next_update = 0;
    int result = GW_OCSP_UNSUCCESSFUL;
    OCSP_BASICRESP *basic = NULL;
    OCSP_CERTID *id = NULL;
    X509_STORE *store = NULL;
    STACK_OF(X509) *chain = NULL;
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    X509 *issuer = NULL;
    int status = 0, reason = 0;
    ASN1_GENERALIZEDTIME *revoked_at = NULL, *this_update = NULL, *next = NULL;
    if (OCSP_response_status(response) != OCSP_RESPONSE_STATUS_SUCCESSFUL) goto done;
    result = GW_OCSP_NOT_A_RESPONSE;
    if ((basic = OCSP_response_get1_basic(response)) == NULL) goto done;
    result = GW_OCSP_NO_ISSUER;
    if (leaf == NULL || SSL_CTX_get0_chain_certs(ctx, &chain) != 1 || chain == NULL) goto done;
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *candidate = sk_X509_value(chain, i);
        if (X509_check_issued(candidate, leaf) == X509_V_OK) { issuer = candidate; break; }
    }
    if (issuer == NULL) goto done;
    result = GW_OCSP_NOT_FOR_CERTIFICATE;
    if ((id = OCSP_cert_to_id(NULL, leaf, issuer)) == NULL) goto done;
    if (OCSP_resp_find_status(basic, id, &status, &reason, &revoked_at, &this_update, &next) != 1) goto done;
    result = GW_OCSP_BAD_SIGNATURE;
    if ((store = X509_STORE_new()) == NULL || X509_STORE_add_cert(store, issuer) != 1) goto done;
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    if (OCSP_basic_verify(basic, chain, store, 0) != 1) goto done;
    if (status == V_OCSP_CERTSTATUS_REVOKED) { result = GW_OCSP_REVOKED; goto done; }
    if (status != V_OCSP_CERTSTATUS_GOOD) { result = GW_OCSP_UNKNOWN; goto done; }
    *next_update = gw_asn1_time_to_epoch(next);
    result = GW_OCSP_GOOD;
    if (OCSP_check_validity(this_update, next, 300, -1) != 1) {
        result = (next != NULL && X509_cmp_current_time(next) < 0) ? GW_OCSP_EXPIRED : GW_OCSP_NOT_YET_VALID;
    }
done:
    ERR_clear_error();
    X509_STORE_free(store);
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(basic);
    return result;
}

/// Reads a DER OCSP response file (one response, nothing after it, at most 1 MiB) and
/// checks it for the context's certificate. Returns the staple when the response is good and
/// current, else NULL; `result` says what was found, `os_error` the errno of an unreadable file.
static inline gw_ocsp_staple *gw_ocsp_staple_load(SSL_CTX *ctx, const char *path, int *result, int *os_error) {
    enum { limit = 1 << 20 };
    *os_error = 0;
    BIO *file = BIO_new_file(path, "rb");
    if (file == NULL) {
        *os_error = errno;
        *result = GW_OCSP_UNREADABLE;
        ERR_clear_error();
        return NULL;
    }
    unsigned char *der = OPENSSL_malloc(limit + 1);
    int length = 0, count = 0;
    while (der != NULL && length <= limit && (count = BIO_read(file, der + length, limit + 1 - length)) > 0) length += count;
    BIO_free(file);
    OCSP_RESPONSE *response = NULL;
    const unsigned char *cursor = der;
    if (der != NULL && length > 0 && length <= limit) response = d2i_OCSP_RESPONSE(NULL, &cursor, length);
    if (response == NULL || cursor != der + length) {
        *result = GW_OCSP_NOT_A_RESPONSE;
        OCSP_RESPONSE_free(response);
        OPENSSL_free(der);
        ERR_clear_error();
        return NULL;
    }
    time_t next_update = 0;
    *result = gw_ocsp_check(ctx, response, &next_update);
    OCSP_RESPONSE_free(response);
    gw_ocsp_staple *staple = NULL;
    if (*result == GW_OCSP_GOOD && (staple = OPENSSL_zalloc(sizeof *staple)) != NULL) {
        staple->der = der;
        staple->length = length;
        staple->next_update = next_update;
        return staple;
    }
    OPENSSL_free(der);
    return NULL;
}

/// The status callback: staples a copy (OpenSSL frees it) while the response is fresh;
/// otherwise the handshake goes on without one (a stale staple is worse than none).
static inline int gw_ocsp_status_callback(SSL *ssl, void *argument) {
    const gw_ocsp_staple *staple = (const gw_ocsp_staple *)argument;
    if (staple == NULL || (staple->next_update != 0 && time(NULL) >= staple->next_update)) return SSL_TLSEXT_ERR_NOACK;
    unsigned char *copy = OPENSSL_memdup(staple->der, (size_t)staple->length);
    if (copy == NULL) return SSL_TLSEXT_ERR_NOACK;
    if (SSL_set_tlsext_status_ocsp_resp(ssl, copy, staple->length) != 1) {
        OPENSSL_free(copy);
        return SSL_TLSEXT_ERR_NOACK;
    }
    return SSL_TLSEXT_ERR_OK;
}

static inline void gw_ssl_ctx_set_ocsp_staple(SSL_CTX *ctx, gw_ocsp_staple *staple) {
    SSL_CTX_set_tlsext_status_cb(ctx, gw_ocsp_status_callback);
    SSL_CTX_set_tlsext_status_arg(ctx, staple);
}

static inline void gw_ocsp_staple_free(gw_ocsp_staple *staple) {
    if (staple == NULL) return;
    OPENSSL_free(staple->der);
    OPENSSL_free(staple);
}
#endif
