import Testing

@testable import GatewayCore

@Suite("Config values: numbers, durations, sizes, rates")
struct ConfigValueTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("0ms", Duration.zero),
        ("30s", Duration.seconds(30)),
        ("5m", Duration.seconds(300)),
        ("1h", Duration.seconds(3600)),
        ("7d", Duration.seconds(7 * 86_400)),
    ])
    func durations(text: String, expected: Duration) throws {
        #expect(try ConfigValue.duration(text) == expected)
    }

    @Test(arguments: [
        ("30", "needs a unit"),
        ("", "invalid duration"),
        ("s", "invalid duration"),
        ("-5s", "invalid duration"),
        ("1.5s", "invalid duration unit \".5s\""),
        ("5 s", "invalid duration unit"),
        ("5sec", "invalid duration unit \"sec\""),
        ("5M", "invalid duration unit \"M\""),
        ("1m30s", "invalid duration unit"),
        ("999999999999999d", "too large"),
        ("1234567890123456s", "invalid duration"),
    ])
    func invalidDurations(text: String, message: String) {
        #expect {
            try ConfigValue.duration(text)
        } throws: { error in
            (error as? ConfigValueError)?.message.contains(message) == true
        }
    }

    @Test(arguments: [
        ("512", 512),
        ("0", 0),
        ("16k", 16 * 1024),
        ("16K", 16 * 1024),
        ("10m", 10 * 1024 * 1024),
        ("10M", 10 * 1024 * 1024),
        ("1g", 1 << 30),
        ("1G", 1 << 30),
    ])
    func sizes(text: String, expected: Int) throws {
        #expect(try ConfigValue.size(text) == expected)
    }

    @Test(arguments: [
        ("", "invalid size"),
        ("k", "invalid size"),
        ("16kb", "invalid size suffix \"kb\""),
        ("1t", "invalid size suffix \"t\""),
        ("-1", "invalid size"),
        ("1.5m", "invalid size suffix"),
        ("99999999999g", "too large"),
    ])
    func invalidSizes(text: String, message: String) {
        #expect {
            try ConfigValue.size(text)
        } throws: { error in
            (error as? ConfigValueError)?.message.contains(message) == true
        }
    }

    @Test func integers() throws {
        #expect(try ConfigValue.integer("42", in: 1...100) == 42)
        #expect(throws: ConfigValueError("invalid number \"+4\"")) { try ConfigValue.integer("+4", in: 1...100) }
        #expect(throws: ConfigValueError("invalid number \"4x\"")) { try ConfigValue.integer("4x", in: 1...100) }
        #expect(throws: ConfigValueError("invalid number \"\"")) { try ConfigValue.integer("", in: 1...100) }
        #expect(throws: ConfigValueError("101 is out of range 1...100")) { try ConfigValue.integer("101", in: 1...100) }
        #expect(throws: ConfigValueError("invalid number \"9999999999999999999999\"")) {
            try ConfigValue.integer("9999999999999999999999", in: 1...100)
        }
    }

    @Test(arguments: [
        ("100/s", nil, Rate(count: 100, period: .seconds(1))),
        ("600/min", nil, Rate(count: 600, period: .seconds(60))),
        ("10000/h", nil, Rate(count: 10000, period: .seconds(3600))),
        ("5/d", nil, Rate(count: 5, period: .seconds(86_400))),
        ("600/min", "burst=100", Rate(count: 600, period: .seconds(60), burst: 100)),
    ] as [(String, String?, Rate)])
    func rates(text: String, burst: String?, expected: Rate) throws {
        #expect(try ConfigValue.rate(text, burst: burst) == expected)
    }

    @Test func rateDescription() throws {
        #expect(try ConfigValue.rate("600/min", burst: "burst=100").description == "600/min burst=100")
        #expect(try ConfigValue.rate("100/s").description == "100/s")
        #expect(try ConfigValue.rate("10/h").description == "10/h")
    }

    @Test(arguments: [
        ("100", nil, "invalid rate"),
        ("/s", nil, "invalid rate"),
        ("100/", nil, "invalid rate period"),
        ("100/m", nil, "write /min"),
        ("100/sec", nil, "invalid rate period \"sec\""),
        ("0/s", nil, "at least 1"),
        ("1/s/s", nil, "invalid rate"),
        ("-1/s", nil, "invalid rate"),
        ("10/s", "burst=0", "invalid burst"),
        ("10/s", "burst=", "invalid burst"),
        ("10/s", "burst=x", "invalid burst"),
        ("10/s", "bursts=4", "expected burst=N"),
    ] as [(String, String?, String)])
    func invalidRates(text: String, burst: String?, message: String) {
        #expect {
            try ConfigValue.rate(text, burst: burst)
        } throws: { error in
            (error as? ConfigValueError)?.message.contains(message) == true
        }
    }
}

@Suite("Config values: addresses and networks")
struct ConfigAddressTests {
    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", 8080),
        ("0.0.0.0:0", "0.0.0.0", 0),
        ("[::1]:8080", "::1", 8080),
        ("[2001:db8::7]:443", "2001:db8::7", 443),
        ("localhost:65535", "localhost", 65535),
    ] as [(String, String, UInt16)])
    func listenAddresses(text: String, host: String, port: UInt16) throws {
        #expect(try ConfigValue.listenAddress(text) == ListenAddress(host: host, port: port))
    }

    @Test func listenAddressDescription() {
        #expect(ListenAddress(host: "::1", port: 80).description == "[::1]:80")
        #expect(ListenAddress(host: "10.0.0.1", port: 80).description == "10.0.0.1:80")
    }

    @Test(arguments: [
        ("127.0.0.1", "missing port"),
        ("127.0.0.1:", "invalid port"),
        ("127.0.0.1:65536", "invalid port \"65536\""),
        ("127.0.0.1:-1", "invalid port"),
        ("127.0.0.1:http", "invalid port"),
        ("example.com:80", "invalid host \"example.com\""),
        ("256.0.0.1:80", "invalid host"),
        ("01.2.3.4:80", "invalid host"),
        (":80", "invalid host \"\""),
        ("::1:80", "brackets"),
        ("[::1]", "missing port"),
        ("[::1:80", "missing \"]\""),
        ("[1.2.3.4]:80", "invalid IPv6"),
        ("[::g]:80", "invalid IPv6"),
    ])
    func invalidListenAddresses(text: String, message: String) {
        #expect {
            try ConfigValue.listenAddress(text)
        } throws: { error in
            (error as? ConfigValueError)?.message.contains(message) == true
        }
    }

    @Test func upstreamPortsStartAtOne() throws {
        #expect(throws: ConfigValueError("invalid port \"0\": expected 1...65535")) {
            try ConfigValue.hostPort("127.0.0.1:0", allowPortZero: false)
        }
        let (host, port) = try ConfigValue.hostPort("127.0.0.1:1", allowPortZero: false)
        #expect(host == "127.0.0.1")
        #expect(port == 1)
    }

    @Test(arguments: [
        ("::", [UInt8](repeating: 0, count: 16)),
        ("::1", [UInt8](repeating: 0, count: 15) + [1]),
        ("1::", [0, 1] + [UInt8](repeating: 0, count: 14)),
        ("2001:db8::7", [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 10) + [0, 7]),
        ("1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]),
        ("::ffff:10.1.2.3", [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 10, 1, 2, 3]),
        ("1:2:3:4:5:6:1.2.3.4", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]),
        ("FFFF::abcd", [0xFF, 0xFF] + [UInt8](repeating: 0, count: 12) + [0xAB, 0xCD]),
    ])
    func ipv6(text: String, bytes: [UInt8]) {
        #expect(ConfigValue.ipv6(Substring(text)) == bytes)
    }

    @Test(arguments: [
        "", ":", ":::", "1:::2", ":1::", "1::2::3", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8",
        "12345::", "g::", "::1.2.3", "1.2.3.4::", "::+1", "fe80::1%eth0", "[::1]",
    ])
    func invalidIPv6(text: String) {
        #expect(ConfigValue.ipv6(Substring(text)) == nil)
    }

    @Test(arguments: ["1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "01.1.1.1", "1.2.3.-4", "a.b.c.d", ""])
    func invalidIPv4(text: String) {
        #expect(ConfigValue.ipv4(Substring(text)) == nil)
    }

    @Test(arguments: [
        ("10.0.0.0/8", [10, 0, 0, 0], 8),
        ("0.0.0.0/0", [0, 0, 0, 0], 0),
        ("127.0.0.1", [127, 0, 0, 1], 32),
        ("192.168.1.128/25", [192, 168, 1, 128], 25),
        ("::1/128", [UInt8](repeating: 0, count: 15) + [1], 128),
        ("::1", [UInt8](repeating: 0, count: 15) + [1], 128),
        ("fd00::/8", [0xFD] + [UInt8](repeating: 0, count: 15), 8),
        ("::/0", [UInt8](repeating: 0, count: 16), 0),
    ] as [(String, [UInt8], Int)])
    func cidrs(text: String, address: [UInt8], prefixLength: Int) throws {
        #expect(try ConfigValue.cidr(text) == CIDR(address: address, prefixLength: prefixLength))
    }

    @Test(arguments: [
        ("10.0.0.1/8", "host bits set in \"10.0.0.1/8\"; did you mean 10.0.0.0/8?"),
        ("192.168.1.129/25", "host bits set"),
        ("fd00::1/8", "host bits set"),
        ("10.0.0.0/33", "invalid prefix length \"33\""),
        ("::/129", "invalid prefix length \"129\""),
        ("10.0.0.0/", "invalid prefix length"),
        ("10.0.0.0/08", "invalid prefix length"),
        ("10.0.0.0/8/8", "invalid network"),
        ("10.0.0/8", "invalid network"),
        ("example.com/8", "invalid network"),
        ("/8", "invalid network"),
    ])
    func invalidCIDRs(text: String, message: String) {
        #expect {
            try ConfigValue.cidr(text)
        } throws: { error in
            (error as? ConfigValueError)?.message.contains(message) == true
        }
    }

    @Test func cidrContainsIPv4() throws {
        let network = try ConfigValue.cidr("10.0.0.0/8")
        #expect(network.contains([10, 255, 1, 2]))
        #expect(!network.contains([11, 0, 0, 0]))
        #expect(!network.contains([10, 0, 0]))
        let host = try ConfigValue.cidr("192.168.1.7")
        #expect(host.contains([192, 168, 1, 7]))
        #expect(!host.contains([192, 168, 1, 6]))
        let odd = try ConfigValue.cidr("192.168.1.128/25")
        #expect(odd.contains([192, 168, 1, 255]))
        #expect(!odd.contains([192, 168, 1, 127]))
        #expect(try ConfigValue.cidr("0.0.0.0/0").contains([8, 8, 8, 8]))
    }

    @Test func cidrContainsIPv6AndMappedIPv4() throws {
        let loopback = try ConfigValue.cidr("::1/128")
        #expect(loopback.contains(ConfigValue.ipv6("::1")!))
        #expect(!loopback.contains(ConfigValue.ipv6("::2")!))
        #expect(!loopback.contains([127, 0, 0, 1]))
        let ula = try ConfigValue.cidr("fd00::/8")
        #expect(ula.contains(ConfigValue.ipv6("fd12:3456::1")!))
        #expect(!ula.contains(ConfigValue.ipv6("fe80::1")!))
        // An IPv4-mapped peer address (dual-stack socket) matches an IPv4 network.
        let v4 = try ConfigValue.cidr("10.0.0.0/8")
        #expect(v4.contains(ConfigValue.ipv6("::ffff:10.1.2.3")!))
        #expect(!v4.contains(ConfigValue.ipv6("::ffff:11.1.2.3")!))
        #expect(!v4.contains(ConfigValue.ipv6("::10.1.2.3")!))
    }

    @Test func cidrDescription() throws {
        #expect(try ConfigValue.cidr("10.0.0.0/8").description == "10.0.0.0/8")
        #expect(try ConfigValue.cidr("::1").description == "0:0:0:0:0:0:0:1/128")
    }
}
