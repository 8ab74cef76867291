import Foundation
import GatewayCrypto
import Testing

/// How a file's `acceptable` cases must come out.
enum AcceptablePolicy: Sendable {
    case accept, reject
}

/// One Wycheproof file and the JWS algorithm it checks (vectors/README.md).
struct VectorFile: Sendable, CustomStringConvertible {
    let name: String
    let algorithm: JWSAlgorithm
    /// Decided per file. The only `acceptable` cases in these files are RSA PKCS#1 v1.5
    /// signatures whose DigestInfo omits the NULL parameters (flag MissingNull). The gateway
    /// rejects them: RFC 8017 §9.2 defines the encoding with NULL, JWS issuers produce it,
    /// and OpenSSL 3's verifier (which compares the re-encoded DigestInfo) rejects the
    /// other form; accepting it would only widen the malleability surface.
    let acceptable: AcceptablePolicy
    var description: String { name }
}

let vectorFiles: [VectorFile] = [
    VectorFile(name: "hmac_sha256_test", algorithm: .hs256, acceptable: .reject),
    VectorFile(name: "hmac_sha384_test", algorithm: .hs384, acceptable: .reject),
    VectorFile(name: "hmac_sha512_test", algorithm: .hs512, acceptable: .reject),
    VectorFile(name: "rsa_signature_2048_sha256_test", algorithm: .rs256, acceptable: .reject),
    VectorFile(name: "rsa_signature_3072_sha384_test", algorithm: .rs384, acceptable: .reject),
    VectorFile(name: "rsa_signature_4096_sha512_test", algorithm: .rs512, acceptable: .reject),
    VectorFile(name: "rsa_pss_2048_sha256_mgf1_32_test", algorithm: .ps256, acceptable: .reject),
    VectorFile(name: "rsa_pss_4096_sha384_mgf1_48_test", algorithm: .ps384, acceptable: .reject),
    VectorFile(name: "rsa_pss_4096_sha512_mgf1_64_test", algorithm: .ps512, acceptable: .reject),
    VectorFile(name: "ecdsa_secp256r1_sha256_p1363_test", algorithm: .es256, acceptable: .reject),
    VectorFile(name: "ecdsa_secp384r1_sha384_p1363_test", algorithm: .es384, acceptable: .reject),
    VectorFile(name: "ecdsa_secp521r1_sha512_p1363_test", algorithm: .es512, acceptable: .reject),
    VectorFile(name: "ed25519_test", algorithm: .edDSA, acceptable: .reject),
]

/// What one file's run saw.
struct VectorTally: CustomStringConvertible {
    var valid = 0, invalid = 0, acceptable = 0
    /// HMAC tests with a truncated tag (JWS never truncates).
    var truncatedTagSkipped = 0
    /// HMAC tests whose key is under 32 bytes: the key is refused at load, asserted per test.
    var weakKeyRefused = 0
    var failures: [String] = []
    var description: String {
        "valid \(valid), invalid \(invalid), acceptable \(acceptable), truncated-tag skipped \(truncatedTagSkipped), weak-key refused \(weakKeyRefused)"
    }
}

@Suite("Wycheproof vectors")
struct WycheproofTests {
    @Test("every valid verifies, every invalid fails, acceptable as decided", arguments: vectorFiles)
    func file(_ file: VectorFile) throws {
        let url = wycheproofDirectory().appendingPathComponent(file.name + ".json")
        let data = try #require(try? Data(contentsOf: url), "missing vector file \(url.path)")
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let groups = try #require(root["testGroups"] as? [[String: Any]])
        var tally = VectorTally()
        for group in groups {
            let tests = try #require(group["tests"] as? [[String: Any]])
            var keys: [VerificationKey] = []
            if file.algorithm.rawValue.hasPrefix("HS") == false {
                keys = try groupKeys(group, algorithm: file.algorithm)
                #expect(keys.count >= 2, "\(file.name): expected two key forms per group")
            }
            for test in tests {
                let id = test["tcId"] as? Int ?? -1
                let result = test["result"] as? String ?? ""
                let message = hexBytes(test["msg"] as? String ?? "")
                let signature: [UInt8]
                var testKeys = keys
                if file.algorithm.rawValue.hasPrefix("HS") {
                    let key = hexBytes(test["key"] as? String ?? "")
                    signature = hexBytes(test["tag"] as? String ?? "")
                    let tagBits = group["tagSize"] as? Int ?? 0
                    if tagBits != file.algorithm.tagBits {
                        tally.truncatedTagSkipped += 1
                        continue
                    }
                    if key.count < 32 {
                        #expect(throws: CryptoError.self) { try VerificationKey(hmacSecret: key, algorithm: file.algorithm) }
                        tally.weakKeyRefused += 1
                        continue
                    }
                    testKeys = [try VerificationKey(hmacSecret: key, algorithm: file.algorithm)]
                } else {
                    signature = hexBytes(test["sig"] as? String ?? "")
                }
                let expected: Bool
                switch result {
                case "valid": expected = true; tally.valid += 1
                case "invalid": expected = false; tally.invalid += 1
                case "acceptable": expected = file.acceptable == .accept; tally.acceptable += 1
                default: Issue.record("\(file.name) tc \(id): unknown result \(result)"); continue
                }
                for (index, key) in testKeys.enumerated() {
                    let got = signature.withUnsafeBytes { sig in message.withUnsafeBytes { key.verify(signature: sig, message: $0) } }
                    if got != expected {
                        tally.failures.append("tc \(id) (\(result), key form \(index), \(test["comment"] as? String ?? "")): got \(got)")
                    }
                }
            }
        }
        #expect(tally.failures.isEmpty, "\(file.name): \(tally.failures.count) wrong: \(tally.failures.prefix(20))")
        #expect(tally.valid > 0 && tally.invalid > 0)
        print("wycheproof \(file.name): \(tally)")
    }

    @Test("every vector file present is mapped to an algorithm, and every mapped file is present")
    func coverage() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: wycheproofDirectory().path)
            .filter { $0.hasSuffix(".json") }
            .map { String($0.dropLast(5)) }
        #expect(Set(names) == Set(vectorFiles.map(\.name)), "vector directory: \(names.sorted())")
    }

    /// The group's public key in every form the file provides: PEM plus JWK (or raw bytes).
    func groupKeys(_ group: [String: Any], algorithm: JWSAlgorithm) throws -> [VerificationKey] {
        var keys: [VerificationKey] = []
        let pem = try #require(group["publicKeyPem"] as? String)
        keys.append(try VerificationKey(pem: Array(pem.utf8), algorithm: algorithm))
        let jwk = (group["publicKeyJwk"] ?? group["keyJwk"]) as? [String: Any]
        switch algorithm {
        case .rs256, .rs384, .rs512, .ps256, .ps384, .ps512:
            let jwk = try #require(jwk)
            let n = try #require(Base64URL.decode(jwk["n"] as? String ?? ""))
            let e = try #require(Base64URL.decode(jwk["e"] as? String ?? ""))
            keys.append(try VerificationKey(rsaModulus: n, exponent: e, algorithm: algorithm))
        case .es256, .es384, .es512:
            // Some groups have no JWK (their points' coordinates are not the point of the test).
            if let jwk {
                let x = try #require(Base64URL.decode(jwk["x"] as? String ?? ""))
                let y = try #require(Base64URL.decode(jwk["y"] as? String ?? ""))
                keys.append(try VerificationKey(ecX: x, y: y, algorithm: algorithm))
            }
            // The uncompressed point too, split at the curve size.
            let point = hexBytes((group["publicKey"] as? [String: Any])?["uncompressed"] as? String ?? "")
            let size = (point.count - 1) / 2
            keys.append(try VerificationKey(ecX: Array(point[1...size]), y: Array(point[(size + 1)...]), algorithm: algorithm))
        case .edDSA:
            let raw = hexBytes((group["publicKey"] as? [String: Any])?["pk"] as? String ?? "")
            keys.append(try VerificationKey(ed25519PublicKey: raw))
            if let jwk, let x = Base64URL.decode(jwk["x"] as? String ?? "") {
                keys.append(try VerificationKey(ed25519PublicKey: x))
            }
        default:
            break
        }
        return keys
    }
}

extension JWSAlgorithm {
    var tagBits: Int {
        switch self {
        case .hs256: 256
        case .hs384: 384
        case .hs512: 512
        default: 0
        }
    }
}
