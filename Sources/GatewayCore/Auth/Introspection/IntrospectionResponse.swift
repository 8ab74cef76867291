/// Reads an introspection response (RFC 7662 §2.2) into an identity.
enum IntrospectionResponse {
    enum Reading: Equatable {
        case active(Identity)
        /// `active` is false, or the token is expired / not yet valid / for another audience:
        /// the token is not good (401).
        case inactive
        /// Not a JSON object with a boolean `active`, or claims of the wrong type: the
        /// endpoint misbehaves (503), which says nothing about the token.
        case malformed
    }

    /// The largest response read.
    static let maxBytes = 64 * 1024

    static func read(_ body: [UInt8], config: IntrospectionConfig, now: Int64) -> Reading {
        guard case .success(let json) = JSONParser.parse(body, maxBytes: maxBytes), json.isObject else { return .malformed }
        guard case .bool(let active)? = json["active"] else { return .malformed }
        guard active else { return .inactive }
        do throws(JWTFailure) {
            let expiry = try json["exp"].map { value throws(JWTFailure) in try JWTVerifier.numericDate(value, roundingUp: false) }
            if let expiry, expiry <= now { return .inactive }
            if let nbf = json["nbf"], try JWTVerifier.numericDate(nbf, roundingUp: true) > now { return .inactive }
            if !config.audiences.isEmpty {
                do { try JWTVerifier.checkAudience(json["aud"], audiences: config.audiences) } catch .badAudience { return .inactive }
            }
            let mapping = config.claims
            guard let userID = try JWTVerifier.stringClaim(json, mapping.userID), !userID.isEmpty else { return .malformed }
            let identity = Identity(
                userID: userID,
                orgID: try JWTVerifier.stringClaim(json, mapping.orgID),
                email: try JWTVerifier.stringClaim(json, mapping.email),
                name: try JWTVerifier.stringClaim(json, mapping.name),
                permissions: try JWTVerifier.listClaim(json, mapping.permissions),
                roles: try JWTVerifier.listClaim(json, mapping.roles),
                method: .introspection,
                tokenID: try JWTVerifier.stringClaim(json, ["jti"]),
                expiresAt: expiry,
                subject: try JWTVerifier.stringClaim(json, ["sub"]),
                issuer: try JWTVerifier.stringClaim(json, ["iss"]) ?? config.url.description)
            // An identity that cannot travel in headers exactly is refused like a bad token.
            return identity.isRepresentableInHeaders ? .active(identity) : .inactive
        } catch {
            return .malformed
        }
    }
}
