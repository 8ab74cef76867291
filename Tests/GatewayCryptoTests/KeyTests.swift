import GatewayCrypto
import Testing

/// Runs `verify` over byte arrays.
func verifies(_ key: VerificationKey, _ signature: [UInt8], _ message: [UInt8]) -> Bool {
    signature.withUnsafeBytes { sig in message.withUnsafeBytes { key.verify(signature: sig, message: $0) } }
}

func sign(_ key: SigningKey, _ message: [UInt8]) throws -> [UInt8] {
    try message.withUnsafeBytes { try key.sign($0) }
}

/// Expects a load to fail with a message containing `fragment`.
func expectLoadError(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ load: () throws -> Void) {
    do {
        try load()
        Issue.record("loaded, expected an error containing \"\(fragment)\"", sourceLocation: sourceLocation)
    } catch let error as CryptoError {
        #expect(error.description.contains(fragment), "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("not a CryptoError: \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("Key loading")
struct KeyLoadingTests {
    @Test("weak keys are refused: RSA 1024, HMAC 16 bytes")
    func weak() {
        expectLoadError("weak key") { _ = try VerificationKey(pem: pemBytes(Fixtures.rsa1024Public), algorithm: .rs256) }
        expectLoadError("weak key") { _ = try SigningKey(privateKeyPEM: pemBytes(Fixtures.rsa1024Private), algorithm: .ps256) }
        expectLoadError("weak key") { _ = try VerificationKey(hmacSecret: [UInt8](repeating: 7, count: 16), algorithm: .hs256) }
        expectLoadError("weak key") { _ = try SigningKey(hmacSecret: [UInt8](repeating: 7, count: 31), algorithm: .hs512) }
        #expect(throws: Never.self) { try VerificationKey(hmacSecret: [UInt8](repeating: 7, count: 32), algorithm: .hs256) }
    }

    @Test("keys of the wrong type or curve are refused")
    func mismatch() {
        expectLoadError("curve mismatch") { _ = try VerificationKey(pem: pemBytes(Fixtures.p384Public), algorithm: .es256) }
        expectLoadError("curve mismatch") { _ = try VerificationKey(pem: pemBytes(Fixtures.p256Public), algorithm: .es512) }
        expectLoadError("curve mismatch") { _ = try SigningKey(privateKeyPEM: pemBytes(Fixtures.p521Private), algorithm: .es384) }
        expectLoadError("key type mismatch") { _ = try VerificationKey(pem: pemBytes(Fixtures.rsa2048Public), algorithm: .es256) }
        expectLoadError("key type mismatch") { _ = try VerificationKey(pem: pemBytes(Fixtures.p256Public), algorithm: .rs256) }
        expectLoadError("key type mismatch") { _ = try VerificationKey(pem: pemBytes(Fixtures.ed25519Public), algorithm: .es256) }
        expectLoadError("key type mismatch") { _ = try VerificationKey(pem: pemBytes(Fixtures.rsa2048Public), algorithm: .edDSA) }
        expectLoadError("key type mismatch") { _ = try VerificationKey(pem: pemBytes(Fixtures.rsa2048Public), algorithm: .hs256) }
        expectLoadError("key type mismatch") { _ = try VerificationKey(hmacSecret: Array(Fixtures.hmacSecret.utf8), algorithm: .rs256) }
        expectLoadError("key type mismatch") { _ = try VerificationKey(rsaModulus: [1, 2, 3], exponent: [1, 0, 1], algorithm: .es256) }
        expectLoadError("key type mismatch") { _ = try VerificationKey(ecX: [UInt8](repeating: 1, count: 32), y: [UInt8](repeating: 1, count: 32), algorithm: .rs256) }
    }

    @Test("PEM forms: PUBLIC KEY, RSA PUBLIC KEY, CERTIFICATE; others refused")
    func pemForms() throws {
        let signer = try SigningKey(privateKeyPEM: pemBytes(Fixtures.rsa2048Private), algorithm: .rs256)
        let message = Array("hello".utf8)
        let signature = try sign(signer, message)
        for pem in [Fixtures.rsa2048Public, Fixtures.rsa2048PKCS1Public, Fixtures.rsa2048Certificate] {
            let key = try VerificationKey(pem: pemBytes(pem), algorithm: .rs256)
            #expect(verifies(key, signature, message))
            #expect(!verifies(key, signature, message + [0]))
        }
        // The PEM without a final newline loads too.
        #expect(throws: Never.self) { try VerificationKey(pem: Array(Fixtures.rsa2048Certificate.utf8), algorithm: .rs256) }
        expectLoadError("unsupported PEM block") { _ = try VerificationKey(pem: pemBytes(Fixtures.rsa2048Private), algorithm: .rs256) }
        expectLoadError("not a PEM") { _ = try VerificationKey(pem: Array("garbage".utf8), algorithm: .rs256) }
        expectLoadError("cannot parse") { _ = try SigningKey(privateKeyPEM: pemBytes(Fixtures.rsa2048Public), algorithm: .rs256) }
    }

    @Test("an EC point not on the curve is refused")
    func offCurve() throws {
        let jwk = try #require(try SigningKey(privateKeyPEM: pemBytes(Fixtures.p256Private), algorithm: .es256).publicJWK())
        let x = try #require(Base64URL.decode(jwk.first { $0.0 == "x" }!.1))
        var y = try #require(Base64URL.decode(jwk.first { $0.0 == "y" }!.1))
        #expect(throws: Never.self) { try VerificationKey(ecX: x, y: y, algorithm: .es256) }
        y[31] ^= 1
        #expect(throws: CryptoError.self) { try VerificationKey(ecX: x, y: y, algorithm: .es256) }
        #expect(throws: CryptoError.self) { try VerificationKey(ecX: Array(x.dropFirst()), y: y, algorithm: .es256) }
        #expect(throws: CryptoError.self) { try VerificationKey(ed25519PublicKey: [UInt8](repeating: 0, count: 31)) }
    }

    @Test("errors never carry key bytes")
    func errorText() {
        let secret = Array("0123456789abcdef".utf8)
        do {
            _ = try VerificationKey(hmacSecret: secret, algorithm: .hs256)
        } catch {
            #expect(!error.description.contains("0123456789abcdef"))
        }
    }
}

@Suite("Sign and verify")
struct SignVerifyTests {
    static func signingKey(_ algorithm: JWSAlgorithm) throws -> SigningKey {
        switch algorithm {
        case .hs256, .hs384, .hs512: try SigningKey(hmacSecret: Array(Fixtures.hmacSecret.utf8), algorithm: algorithm)
        case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512: try SigningKey(privateKeyPEM: pemBytes(Fixtures.rsa2048Private), algorithm: algorithm)
        case .es256: try SigningKey(privateKeyPEM: pemBytes(Fixtures.p256Private), algorithm: algorithm)
        case .es384: try SigningKey(privateKeyPEM: pemBytes(Fixtures.p384Private), algorithm: algorithm)
        case .es512: try SigningKey(privateKeyPEM: pemBytes(Fixtures.p521Private), algorithm: algorithm)
        case .edDSA: try SigningKey(privateKeyPEM: pemBytes(Fixtures.ed25519Private), algorithm: algorithm)
        }
    }

    static func expectedSize(_ algorithm: JWSAlgorithm) -> Int {
        switch algorithm {
        case .hs256: 32
        case .hs384: 48
        case .hs512: 64
        case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512: 256
        case .es256: 64
        case .es384: 96
        case .es512: 132
        case .edDSA: 64
        }
    }

    @Test("round trip; tampering fails; other algorithms' keys fail", arguments: JWSAlgorithm.allCases)
    func roundTrip(_ algorithm: JWSAlgorithm) throws {
        let key = try Self.signingKey(algorithm)
        #expect(key.algorithm == algorithm && key.verificationKey.algorithm == algorithm)
        for message in [[], Array("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0".utf8), [UInt8](repeating: 0xA5, count: 5000)] {
            let signature = try sign(key, message)
            #expect(signature.count == Self.expectedSize(algorithm))
            #expect(verifies(key.verificationKey, signature, message))
            #expect(!verifies(key.verificationKey, signature, message + [1]))
            var flipped = signature
            flipped[flipped.count / 2] ^= 0x01
            #expect(!verifies(key.verificationKey, flipped, message))
            #expect(!verifies(key.verificationKey, Array(signature.dropLast()), message))
            #expect(!verifies(key.verificationKey, signature + [0], message))
            #expect(!verifies(key.verificationKey, [], message))
        }
    }

    @Test("the same key under a sibling algorithm does not verify", arguments: [
        (JWSAlgorithm.rs256, JWSAlgorithm.ps256), (.ps256, .rs256), (.rs256, .rs384), (.hs256, .hs384),
    ])
    func crossAlgorithm(_ pair: (JWSAlgorithm, JWSAlgorithm)) throws {
        let signer = try Self.signingKey(pair.0), other = try Self.signingKey(pair.1)
        let message = Array("m".utf8)
        #expect(!verifies(other.verificationKey, try sign(signer, message), message))
    }

    @Test("ECDSA: raw r||s; r or s of 0 or >= n refused; DER refused")
    func ecdsaForm() throws {
        let key = try Self.signingKey(.es256)
        let message = Array("message".utf8)
        let signature = try sign(key, message)
        #expect(signature.count == 64)
        let order = hexBytes("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
        let zero = [UInt8](repeating: 0, count: 32)
        let r = Array(signature[..<32]), s = Array(signature[32...])
        #expect(verifies(key.verificationKey, r + s, message))
        #expect(!verifies(key.verificationKey, zero + s, message))
        #expect(!verifies(key.verificationKey, r + zero, message))
        #expect(!verifies(key.verificationKey, order + s, message))
        #expect(!verifies(key.verificationKey, r + order, message))
        // s and n - s are both mathematically valid; JWS does not require low-s, so n - s verifies.
        let der = try #require(Base64URL.decode(Fixtures.opensslES256DER))
        let p256 = try VerificationKey(pem: pemBytes(Fixtures.p256Public), algorithm: .es256)
        #expect(!verifies(p256, der, Array(Fixtures.signingInput.utf8)))
    }

    @Test("signatures made by the openssl command line verify")
    func openssl() throws {
        let input = Array(Fixtures.signingInput.utf8)
        let cases: [(VerificationKey, String)] = [
            (try VerificationKey(pem: pemBytes(Fixtures.rsa2048Public), algorithm: .rs256), Fixtures.opensslRS256),
            (try VerificationKey(pem: pemBytes(Fixtures.rsa2048Certificate), algorithm: .ps256), Fixtures.opensslPS256),
            (try VerificationKey(pem: pemBytes(Fixtures.ed25519Public), algorithm: .edDSA), Fixtures.opensslEdDSA),
            (try VerificationKey(hmacSecret: Array(Fixtures.hmacSecret.utf8), algorithm: .hs256), Fixtures.opensslHS256),
        ]
        for (key, text) in cases {
            let signature = try #require(Base64URL.decode(text))
            #expect(verifies(key, signature, input), "\(key.algorithm)")
            #expect(!verifies(key, signature, input.dropLast() + [0x41]), "\(key.algorithm)")
        }
        // HMAC signing is deterministic: the same tag as openssl's.
        let hmac = try SigningKey(hmacSecret: Array(Fixtures.hmacSecret.utf8), algorithm: .hs256)
        #expect(Base64URL.encode(try sign(hmac, input)) == Fixtures.opensslHS256)
    }

    @Test("public JWK export round-trips through the JWK initialisers")
    func jwk() throws {
        for algorithm in JWSAlgorithm.allCases {
            let key = try Self.signingKey(algorithm)
            let message = Array("jwk".utf8)
            let signature = try sign(key, message)
            guard let members = key.publicJWK() else {
                #expect(algorithm.rawValue.hasPrefix("HS"))
                continue
            }
            func member(_ name: String) throws -> [UInt8] {
                let text = try #require(members.first { $0.0 == name }?.1)
                return try #require(Base64URL.decode(text))
            }
            let kty = members.first { $0.0 == "kty" }?.1
            let imported: VerificationKey
            switch kty {
            case "RSA": imported = try VerificationKey(rsaModulus: try member("n"), exponent: try member("e"), algorithm: algorithm)
            case "EC":
                let x = try member("x"), y = try member("y")
                #expect(x.count == y.count && x.count == Self.expectedSize(algorithm) / 2)
                let crv = members.first { $0.0 == "crv" }?.1
                #expect(crv == ["ES256": "P-256", "ES384": "P-384", "ES512": "P-521"][algorithm.rawValue])
                imported = try VerificationKey(ecX: x, y: y, algorithm: algorithm)
            case "OKP":
                #expect(members.first { $0.0 == "crv" }?.1 == "Ed25519")
                imported = try VerificationKey(ed25519PublicKey: try member("x"))
            default:
                Issue.record("unexpected kty \(kty ?? "nil")")
                continue
            }
            #expect(verifies(imported, signature, message), "\(algorithm)")
            #expect(members.allSatisfy { !$0.1.contains("=") })
        }
    }

    @Test("keys are usable from many threads at once")
    func concurrent() async throws {
        let keys = try JWSAlgorithm.allCases.map { try Self.signingKey($0) }
        let message = Array("concurrent".utf8)
        let signatures = try keys.map { try sign($0, message) }
        await withTaskGroup(of: Bool.self) { group in
            for round in 0..<8 {
                for (key, signature) in zip(keys, signatures) {
                    group.addTask { (0..<20).allSatisfy { _ in verifies(key.verificationKey, signature, message) } && round >= 0 }
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}

@Suite("Base64URL")
struct Base64URLTests {
    @Test("RFC 4648 vectors, unpadded")
    func vectors() {
        let cases = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in cases {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.decode("-_-_") == [0xFB, 0xFF, 0xBF])
        let all = (0...255).map { UInt8($0) }
        #expect(Base64URL.decode(Base64URL.encode(all)) == all)
    }

    @Test("strict: padding, +, /, whitespace, bad length, non-canonical bits refused")
    func strict() {
        // "Zh" and "Zm9" set bits below the last whole byte ("Zg" and "Zm8" are the canonical forms).
        for bad in ["Zg==", "Zm8=", "+/+/", "Zm9v Yg", "Zm9v\n", " Zm9v", "Z", "Zm9vY", "Zh", "Zm9", "Zm-", "é", "Zm9v\0"] {
            #expect(Base64URL.decode(bad) == nil, "\(bad)")
        }
    }
}

@Suite("RSA JWK checks")
struct RSAJWKTests {
    @Test("an even exponent or modulus is refused")
    func badNumbers() throws {
        let jwk = try #require(try SigningKey(privateKeyPEM: pemBytes(Fixtures.rsa2048Private), algorithm: .rs256).publicJWK())
        let n = try #require(Base64URL.decode(jwk.first { $0.0 == "n" }?.1 ?? ""))
        #expect(throws: Never.self) { try VerificationKey(rsaModulus: n, exponent: [1, 0, 1], algorithm: .rs256) }
        #expect(throws: Never.self) { try VerificationKey(rsaModulus: [0] + n, exponent: [1, 0, 1], algorithm: .rs256) }
        #expect(throws: CryptoError.self) { try VerificationKey(rsaModulus: n, exponent: [1, 0, 0], algorithm: .rs256) }
        var even = n
        even[even.count - 1] &= 0xFE
        #expect(throws: CryptoError.self) { try VerificationKey(rsaModulus: even, exponent: [1, 0, 1], algorithm: .rs256) }
        #expect(throws: CryptoError.self) { try VerificationKey(rsaModulus: Array(n.prefix(128)), exponent: [1, 0, 1], algorithm: .rs256) }
    }
}
