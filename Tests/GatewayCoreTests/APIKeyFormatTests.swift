import GatewayCore
import Testing

@Suite("API key format")
struct APIKeyFormatTests {
    @Test("CRC-32 matches zlib's check value")
    func crcVector() {
        #expect(APIKeyFormat.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(APIKeyFormat.crc32([]) == 0)
        #expect(APIKeyFormat.crc32(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    @Test("base62 is most significant first and zero-padded", arguments: [
        (UInt64(0), 6, "000000"), (61, 6, "00000z"), (62, 6, "000010"),
        (0xFFFF_FFFF, 6, "4gfFC3"), (0xCBF4_3926, 6, "3jZRME"), (3843, 2, "zz"), (3844, 2, "100"),
    ])
    func base62(value: UInt64, width: Int, expected: String) {
        #expect(APIKeyFormat.base62(value, width: width) == expected)
    }

    @Test("generate then parse round-trips")
    func roundTrip() throws {
        for _ in 0..<50 {
            let made = APIKeyFormat.generate(prefix: "gw_")
            #expect(made.key.utf8.count == 3 + 12 + 1 + 32 + 6)
            #expect(made.id.utf8.count == 12)
            #expect(made.secret.utf8.count == 32)
            #expect(made.key.hasPrefix("gw_" + made.id + "_" + made.secret))
            let parsed = try #require(APIKeyFormat.parse(made.key, prefixes: ["sk_", "gw_"]))
            #expect(parsed.prefix == "gw_")
            #expect(parsed.id == made.id)
            #expect(parsed.secret == Array(made.secret.utf8))
            let body = Array("gw_\(made.id)_\(made.secret)".utf8)
            #expect(made.key.hasSuffix(APIKeyFormat.base62(UInt64(APIKeyFormat.crc32(body)), width: 6)))
        }
    }

    @Test("a known key parses (check computed independently with Python's zlib.crc32)")
    func knownKey() throws {
        let key = "gw_abcdefABCDEF_0123456789abcdefghijABCDEFGHIJkl0j6wmN"
        #expect(APIKeyFormat.checksum(of: Array("gw_abcdefABCDEF_0123456789abcdefghijABCDEFGHIJkl".utf8)) == "0j6wmN")
        let parsed = try #require(APIKeyFormat.parse(key, prefixes: ["gw_"]))
        #expect(parsed.id == "abcdefABCDEF")
        #expect(parsed.secret == Array("0123456789abcdefghijABCDEFGHIJkl".utf8))
    }

    @Test("every single changed character fails")
    func flippedCharacter() {
        let key = Array(APIKeyFormat.generate(prefix: "gw_").key.utf8)
        for index in 3..<key.count where index != 15 {
            var changed = key
            changed[index] = changed[index] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
            #expect(APIKeyFormat.check(changed, prefixes: ["gw_"]) == .failure(.badChecksum), "index \(index)")
        }
    }

    @Test("wrong prefix, length, separator or alphabet is malformed")
    func malformed() {
        let key = APIKeyFormat.generate(prefix: "gw_").key
        let bytes = Array(key.utf8)
        #expect(APIKeyFormat.check(bytes, prefixes: ["sk_"]) == .failure(.malformed))
        #expect(APIKeyFormat.check(bytes, prefixes: []) == .failure(.malformed))
        #expect(APIKeyFormat.check(Array(bytes.dropLast()), prefixes: ["gw_"]) == .failure(.malformed))
        #expect(APIKeyFormat.check(bytes + [UInt8(ascii: "0")], prefixes: ["gw_"]) == .failure(.malformed))
        var separator = bytes
        separator[15] = UInt8(ascii: "x")
        #expect(APIKeyFormat.check(separator, prefixes: ["gw_"]) == .failure(.malformed))
        for bad in ["-", "+", "/", "=", " ", "\u{00}"] {
            var alphabet = bytes
            alphabet[20] = Array(bad.utf8)[0]
            #expect(APIKeyFormat.check(alphabet, prefixes: ["gw_"]) == .failure(.malformed))
        }
        var nonASCII = bytes
        nonASCII[5] = 0xC3
        #expect(APIKeyFormat.check(nonASCII, prefixes: ["gw_"]) == .failure(.malformed))
        #expect(APIKeyFormat.parse("", prefixes: ["gw_"]) == nil)
        #expect(APIKeyFormat.parse("gw_", prefixes: ["gw_"]) == nil)
    }

    @Test("random secrets use the whole alphabet")
    func alphabetCoverage() {
        var seen = Set<Character>()
        for _ in 0..<200 { seen.formUnion(APIKeyFormat.randomBase62(count: 32)) }
        #expect(seen.count == 62)
        #expect(Set(APIKeyFormat.alphabet.map { Character(UnicodeScalar($0)) }) == seen)
    }

    @Test("prefix validation")
    func prefixes() {
        #expect(APIKeyFormat.isValidPrefix("gw_"))
        #expect(APIKeyFormat.isValidPrefix("sk-live-"))
        #expect(!APIKeyFormat.isValidPrefix(""))
        #expect(!APIKeyFormat.isValidPrefix("a b"))
        #expect(!APIKeyFormat.isValidPrefix("é_"))
        #expect(!APIKeyFormat.isValidPrefix(String(repeating: "a", count: 33)))
    }
}
