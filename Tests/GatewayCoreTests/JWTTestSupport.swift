import GatewayCrypto

@testable import GatewayCore

/// A signature-layer stand-in: accepts a signature equal to SHA-256(message). No secret, so it
/// proves only that the pipeline hands the right bytes to the right key.
struct DigestVerifier: JWSVerifier {
    let algorithmName: String
    func verify(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> Bool {
        let expected = Digest.sha256(message)
        return expected.withUnsafeBytes { ConstantTime.equals($0, signature) }
    }
}

/// Rejects every signature.
struct RejectingVerifier: JWSVerifier {
    let algorithmName: String
    func verify(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) -> Bool { false }
}

enum JWTFixture {
    static let now: Int64 = 1_700_000_000
    static let issuer = "https://auth.example.com"
    static let otherIssuer = "https://other.example.com"

    static func b64(_ text: String) -> String { Base64URL.encode(Array(text.utf8)) }

    /// `header.payload.signature` from raw JSON texts; the signature is SHA-256 of the signing
    /// input (what `DigestVerifier` accepts) unless `signature` is given.
    static func token(header: String, payload: String, signature: [UInt8]? = nil) -> [UInt8] {
        let input = b64(header) + "." + b64(payload)
        let sig = signature ?? Digest.sha256(Array(input.utf8))
        return Array((input + "." + Base64URL.encode(sig)).utf8)
    }

    /// A payload with the usual valid claims; `extra` is spliced in (leading comma included by caller).
    static func payload(
        iss: String = issuer, aud: String = "\"agent-api\"", exp: String? = String(now + 300),
        extra: String = ""
    ) -> String {
        var fields = ["\"iss\":\"\(iss)\"", "\"sub\":\"user-1\"", "\"aud\":\(aud)"]
        if let exp { fields.append("\"exp\":\(exp)") }
        if !extra.isEmpty { fields.append(extra) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func verifier(
        requireExp: Bool = true, requiredTyp: String? = nil, claims: ClaimMapping = ClaimMapping(),
        extraKeys: [JWTKeyEntry] = [], maxTokenBytes: Int = JWTVerifier.defaultMaxTokenBytes
    ) -> JWTVerifier {
        JWTVerifier(
            issuers: [
                JWTIssuerConfig(
                    issuer: issuer, audiences: ["agent-api", "admin-api"], leeway: .seconds(30),
                    requireExp: requireExp, requiredTyp: requiredTyp, claims: claims),
                JWTIssuerConfig(issuer: otherIssuer, audiences: ["agent-api"]),
            ],
            keys: [
                JWTKeyEntry(kid: "hs-main", verifier: DigestVerifier(algorithmName: "HS256"), issuer: issuer),
                JWTKeyEntry(kid: "es-1", verifier: DigestVerifier(algorithmName: "ES256"), issuer: issuer),
                JWTKeyEntry(kid: "other", verifier: DigestVerifier(algorithmName: "RS256"), issuer: otherIssuer),
            ] + extraKeys,
            maxTokenBytes: maxTokenBytes)
    }

    static func verify(_ token: [UInt8], with verifier: JWTVerifier = verifier(), now: Int64 = now) -> Result<VerifiedToken, JWTFailure> {
        verifier.verify(token, now: now)
    }

    static func failure(_ result: Result<VerifiedToken, JWTFailure>) -> JWTFailure? {
        if case .failure(let failure) = result { return failure }
        return nil
    }

    static func identity(_ result: Result<VerifiedToken, JWTFailure>) -> Identity? {
        if case .success(let token) = result { return token.identity }
        return nil
    }
}
