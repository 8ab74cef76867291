import GatewayCrypto
import Testing

@Suite("Speed")
struct SpeedTests {
    /// The HS256 hot path: a pre-keyed template context duplicated per call. Generous bound
    /// (debug build, shared CI cores); the report line shows the real figure.
    @Test("HS256 verify of a short message is fast")
    func hs256() throws {
        let key = try SigningKey(hmacSecret: [UInt8](repeating: 0x42, count: 32), algorithm: .hs256)
        let message = Array("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZXhwIjoxOTAwMDAwMDAwfQ".utf8)
        let signature = try message.withUnsafeBytes { try key.sign($0) }
        let verifier = key.verificationKey
        let rounds = 20_000
        var ok = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            signature.withUnsafeBytes { sig in
                message.withUnsafeBytes { msg in
                    for _ in 0..<rounds where verifier.verify(signature: sig, message: msg) { ok += 1 }
                }
            }
        }
        #expect(ok == rounds)
        let nanoseconds = Double(elapsed.components.attoseconds) / 1e9 + Double(elapsed.components.seconds) * 1e9
        print("HS256 verify: \(Int(nanoseconds / Double(rounds))) ns/op")
        #expect(nanoseconds / Double(rounds) < 25_000)  // regression guard that survives sanitizer builds
    }
}

@Suite("Speed (public keys)")
struct PublicKeySpeedTests {
    @Test("public-key verify cost per algorithm (report only)", arguments: [JWSAlgorithm.rs256, .ps256, .es256, .edDSA])
    func publicKey(_ algorithm: JWSAlgorithm) throws {
        let key = try SignVerifyTests.signingKey(algorithm)
        let message = Array("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZXhwIjoxOTAwMDAwMDAwfQ".utf8)
        let signature = try message.withUnsafeBytes { try key.sign($0) }
        let verifier = key.verificationKey
        let rounds = 300
        var ok = 0
        let elapsed = ContinuousClock().measure {
            for _ in 0..<rounds where signature.withUnsafeBytes({ sig in message.withUnsafeBytes { verifier.verify(signature: sig, message: $0) } }) { ok += 1 }
        }
        #expect(ok == rounds)
        let nanoseconds = Double(elapsed.components.attoseconds) / 1e9 + Double(elapsed.components.seconds) * 1e9
        print("\(algorithm.rawValue) verify: \(Int(nanoseconds / Double(rounds))) ns/op")
    }
}
