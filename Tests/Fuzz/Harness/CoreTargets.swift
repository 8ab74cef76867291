import GatewayCore
import GatewayCrypto
import GatewayHTTP

enum CoreTargets {
    static func config(_ input: UnsafeRawBufferPointer) {
        // Raw bytes, as a file is read (invalid UTF-8 included); `file:`/`env:` secrets resolve
        // against nothing here.
        _ = try? ConfigLoader.load(bytes: Array(input), fileName: "fuzz.conf", environment: [:])
    }

    static func json(_ input: UnsafeRawBufferPointer) {
        guard let value = try? JSONParser.parse(input, maxBytes: 1 << 20) else { return }
        fuzzCheck(size(value) <= input.count, "a parsed document larger than its text")
    }

    /// A verifier trusting one HS256 key; nothing the fuzzer makes can carry its signature.
    private static let verifier: JWTVerifier = {
        let text = """
            jwt { issuer https://idp.fuzz; audience api; key k1 HS256 env:FUZZ_SECRET; }
            route /** { upstream u; }
            upstream u { server 127.0.0.1:9; }
            """
        let environment = ["FUZZ_SECRET": "fuzz-secret-0123456789abcdef0123456789abcdef"]
        guard let loaded = try? LoadedConfig.load(text: text, fileName: "fuzz.conf", environment: environment), let jwt = loaded.jwt
        else { fatalError("the fuzz target's own configuration does not load") }
        return jwt.verifier
    }()

    static func jwt(_ input: UnsafeRawBufferPointer) {
        if case .success = verifier.verify(input, now: 1_800_000_000) { fuzzCheck(false, "an unsigned input verified") }
    }

    static func base64url(_ input: UnsafeRawBufferPointer) {
        guard let decoded = Base64URL.decode(input) else { return }
        fuzzCheck(Array(Base64URL.encode(decoded).utf8) == Array(input), "base64url text does not round-trip")
    }

    static func path(_ input: UnsafeRawBufferPointer) {
        var once: [UInt8] = []
        guard (try? PathNormalizer.normalize(input, into: &once)) != nil else { return }
        var twice: [UInt8] = []
        let again = once.withUnsafeBytes { bytes in Result { () throws(PathError) in try PathNormalizer.normalize(bytes, into: &twice) } }
        fuzzCheck((try? again.get()) != nil, "a normalized path is refused")
        fuzzCheck(once == twice, "normalizing twice changed the path")
        fuzzCheck(once.first == UInt8(ascii: "/"), "a normalized path not starting with /")
    }

    /// The input is a request head; its headers go through the decision endpoint's reader and
    /// the client-address reader (as behind a trusted proxy).
    static func forwarded(_ input: UnsafeRawBufferPointer) {
        var parser = RequestHeadParser()
        var head = RequestHead()
        guard (try? parser.parse(input, into: &head)) == true else { return }
        if case .success(let original) = OriginalRequest.read(head.headers, input) {
            fuzzCheck(original.path.start + original.path.count <= input.count, "original path outside the input")
        }
        let request = AccessRequest(
            method: head.method, query: head.query, headers: head.headers, bytes: input, peerAddress: [127, 0, 0, 1], peerTrusted: true)
        let trusted = [CIDR(address: [10, 0, 0, 0], prefixLength: 8), CIDR(address: [127, 0, 0, 0], prefixLength: 8)]
        let address = ClientAddress.forLimits(request, trustProxies: trusted)
        fuzzCheck(!address.isEmpty, "an empty client address")
    }

    /// A lower bound of a value's JSON text length.
    private static func size(_ value: JSONValue) -> Int {
        switch value {
        case .object(let members):
            var total = 2 + max(0, members.count - 1)
            for (key, member) in members { total += key.utf8.count / 6 + 3 + size(member) }
            return total
        case .array(let items):
            var total = 2 + max(0, items.count - 1)
            for item in items { total += size(item) }
            return total
        case .string(let text):
            return 2 + text.utf8.count / 6
        default:
            return 1
        }
    }
}
