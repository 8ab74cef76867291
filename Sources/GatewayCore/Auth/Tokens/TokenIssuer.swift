package import GatewayCrypto
import GatewaySupport

/// One of the gateway's own signing keys with its `kid`.
package struct NamedSigningKey: Sendable {
    package let kid: String
    package let key: SigningKey
}

/// The claims of an access token the gateway mints (RFC 9068; `token issue`, later the token
/// service of SPEC §10).
package struct AccessTokenClaims: Sendable {
    package var subject: String
    package var permissions: [String] = []
    package var roles: [String] = []
    package var orgID: String? = nil
    /// RFC 9068 requires `client_id`; the CLI uses the subject.
    package var clientID: String
    /// The API key the token was exchanged for, so revoking the key can end it.
    package var keyID: String? = nil
    package var lifetime: Duration

    package init(subject: String, clientID: String? = nil, lifetime: Duration) {
        self.subject = subject
        self.clientID = clientID ?? subject
        self.lifetime = lifetime
    }
}

/// The `tokens` block compiled: the gateway's signing keys, built once at load (a weak key
/// is a load error at its `signing_key` line). The first key signs; every key verifies and
/// is published in the JWKS, so tokens signed before a rotation stay valid.
///
/// Two kinds of token, told apart by `typ` so one can never pass for the other: access tokens
/// (`at+jwt`, accepted by the gateway itself) and identity tokens (`gateway-identity+jwt`,
/// `X-Auth-Identity`, for upstreams only).
package final class TokenIssuer: Sendable {
    /// `typ` of access tokens (RFC 9068).
    package static let accessTokenType = "at+jwt"
    /// `typ` of identity tokens; the gateway never accepts these as credentials.
    package static let identityTokenType = "gateway-identity+jwt"
    /// Lifetime of an identity token.
    package static let identityTokenLifetime: Int64 = 60

    package let issuer: String
    package let audiences: [String]
    package let accessTTL: Duration
    package let refreshTTL: Duration
    /// Every signing key; `keys[0]` signs.
    package let keys: [NamedSigningKey]

    /// Builds the keys. - Throws: every weak or malformed key, at its line.
    package init(_ config: TokensConfig) throws(ConfigError) {
        var problems: [ConfigDiagnostic] = []
        var keys: [NamedSigningKey] = []
        for line in config.signingKeys {
            do throws(CryptoError) {
                guard let algorithm = JWSAlgorithm(rawValue: line.algorithm) else { throw CryptoError("unknown algorithm") }
                let key = try line.material.reveal { material throws(CryptoError) in
                    algorithm.isHMAC
                        ? try SigningKey(hmacSecret: material, algorithm: algorithm)
                        : try SigningKey(privateKeyPEM: material, algorithm: algorithm)
                }
                keys.append(NamedSigningKey(kid: line.kid, key: key))
            } catch {
                problems.append(ConfigDiagnostic(line.location, "signing_key \"\(line.kid)\": \(error.message)"))
            }
        }
        guard problems.isEmpty, !keys.isEmpty else { throw ConfigError(problems) }
        self.issuer = config.issuer
        self.audiences = config.audiences
        self.accessTTL = config.accessTTL
        self.refreshTTL = config.refreshTTL
        self.keys = keys
    }

    /// The verification side for the JWT verifier: the gateway's own issuer, `at+jwt` required.
    package var issuerConfig: JWTIssuerConfig {
        var config = JWTIssuerConfig(issuer: issuer, audiences: audiences, requiredTyp: Self.accessTokenType)
        config.bindsAPIKeys = true
        return config
    }

    /// Every key's public half, bound to the gateway's issuer.
    package var verificationEntries: [JWTKeyEntry] {
        keys.map { JWTKeyEntry(kid: $0.kid, verifier: $0.key.verificationKey, issuer: issuer) }
    }

    /// Mints an access token at unix time `now`.
    package func accessToken(_ claims: AccessTokenClaims, now: Int64) throws(CryptoError) -> String {
        var payload = JSONObjectWriter()
        payload.string("iss", issuer)
        payload.string("sub", claims.subject)
        if audiences.count == 1 { payload.string("aud", audiences[0]) } else { payload.strings("aud", audiences) }
        payload.integer("exp", now + max(1, claims.lifetime.components.seconds))
        payload.integer("iat", now)
        payload.integer("nbf", now)
        payload.string("jti", Base64URL.encode(SecureRandom.bytes(16)))
        payload.string("client_id", claims.clientID)
        payload.string("scope", claims.permissions.joined(separator: " "))
        if !claims.roles.isEmpty { payload.strings("roles", claims.roles) }
        payload.string("org_id", claims.orgID)
        payload.string("key_id", claims.keyID)
        return String(decoding: try sign(payload.finished(), type: Self.accessTokenType), as: UTF8.self)
    }

    /// Mints the `X-Auth-Identity` token for `identity`, addressed to one upstream (`aud`),
    /// valid for `identityTokenLifetime` seconds.
    package func identityToken(_ identity: Identity, audience: String, now: Int64) throws(CryptoError) -> [UInt8] {
        var payload = JSONObjectWriter()
        payload.string("iss", issuer)
        payload.string("sub", identity.userID)
        payload.string("aud", audience)
        payload.integer("iat", now)
        payload.integer("exp", now + Self.identityTokenLifetime)
        payload.string("auth_method", identity.method.rawValue)
        payload.string("org_id", identity.orgID)
        payload.string("email", identity.email)
        payload.string("name", identity.name)
        if !identity.permissions.isEmpty { payload.strings("permissions", identity.permissions.sorted()) }
        if !identity.roles.isEmpty { payload.strings("roles", identity.roles.sorted()) }
        payload.string("key_id", identity.keyID)
        payload.string("token_id", identity.tokenID)
        return try sign(payload.finished(), type: Self.identityTokenType)
    }

    /// The public JWKS (RFC 7517) of the asymmetric keys; HMAC secrets are never published.
    package func jwks() -> String {
        var entries: [[UInt8]] = []
        for named in keys {
            guard let members = named.key.publicJWK() else { continue }
            var jwk = JSONObjectWriter()
            for (name, value) in members { jwk.string(name, value) }
            jwk.string("kid", named.kid)
            jwk.string("alg", named.key.algorithm.rawValue)
            jwk.string("use", "sig")
            entries.append(jwk.finished())
        }
        var document = JSONObjectWriter()
        document.array("keys", entries)
        return String(decoding: document.finished(), as: UTF8.self)
    }

    /// `base64url(header).base64url(payload).base64url(signature)` with the current key.
    private func sign(_ payload: [UInt8], type: String) throws(CryptoError) -> [UInt8] {
        let current = keys[0]
        var header = JSONObjectWriter()
        header.string("alg", current.key.algorithm.rawValue)
        header.string("typ", type)
        header.string("kid", current.kid)
        var token = Array(Base64URL.encode(header.finished()).utf8)
        token.append(UInt8(ascii: "."))
        token += Base64URL.encode(payload).utf8
        let signature: [UInt8]
        do {
            signature = try token.withUnsafeBytes { message in try current.key.sign(message) }
        } catch let error as CryptoError {
            throw error
        } catch {
            throw CryptoError("signing failed")
        }
        token.append(UInt8(ascii: "."))
        token += Base64URL.encode(signature).utf8
        return token
    }
}
