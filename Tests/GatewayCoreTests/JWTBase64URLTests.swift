import GatewayCrypto
import Testing

@testable import GatewayCore

@Suite("JWT base64url")
struct JWTBase64URLTests {
    private func decode(_ text: String) -> [UInt8]? { Base64URL.decode(Array(text.utf8)) }

    @Test(arguments: [
        ("", [UInt8]()), ("Zg", Array("f".utf8)), ("Zm8", Array("fo".utf8)), ("Zm9v", Array("foo".utf8)),
        ("Zm9vYg", Array("foob".utf8)), ("Zm9vYmE", Array("fooba".utf8)), ("Zm9vYmFy", Array("foobar".utf8)),
        ("-_8", [0xFB, 0xFF]),
    ])
    func decodesRFC4648Vectors(text: String, bytes: [UInt8]) {
        #expect(decode(text) == bytes)
        #expect(Base64URL.encode(bytes) == text)
    }

    @Test func roundTripsEveryLength() {
        for count in 0..<70 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
    }

    @Test("rejects padding, standard alphabet, whitespace and bad lengths", .bug(id: "RFC7515-2", "segments are unpadded base64url"),
          arguments: ["Zg==", "Zm8=", "+w", "/w", "Zm 9v", "Zm9v\n", " Zm9v", "Zm9vY", "A", "Zm9\u{0}", "Zm9v.", "Zé"])
    func rejectsNonCanonicalAlphabet(text: String) {
        #expect(decode(text) == nil)
    }

    @Test("rejects non-zero trailing bits", arguments: ["Zh", "Zm9", "Zm-", "AB", "AAB"])
    func rejectsNonCanonicalTrailingBits(text: String) {
        #expect(decode(text) == nil)
    }
}
