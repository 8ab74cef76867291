extension ConfigValue {
    /// An IPv4 dotted quad (`10.0.0.1`) as 4 bytes. Strict: four decimal parts 0-255 and no
    /// leading zeros (`010` could mean octal to other tools), nil otherwise.
    package static func ipv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard part.utf8.count <= 3, let value = decimal(part), value <= 255 else { return nil }
            guard part == "0" || !part.hasPrefix("0") else { return nil }
            bytes.append(UInt8(value))
        }
        return bytes
    }

    /// An IPv6 address in RFC 4291 text form (`::1`, `2001:db8::7`, `::ffff:10.0.0.1`) as 16
    /// bytes; no brackets and no zone (`%eth0`). Nil when malformed.
    package static func ipv6(_ text: Substring) -> [UInt8]? {
        guard text.utf8.count >= 2, text.utf8.count <= 45 else { return nil }
        var head = text
        var tail: Substring? = nil
        if let range = text.firstRange(of: "::") {
            head = text[..<range.lowerBound]
            tail = text[range.upperBound...]
        }
        guard var headBytes = ipv6Groups(head, allowTrailingIPv4: tail == nil) else { return nil }
        guard let tail else { return headBytes.count == 16 ? headBytes : nil }
        guard let tailBytes = ipv6Groups(tail, allowTrailingIPv4: true) else { return nil }
        // `::` stands for at least one zero group.
        guard headBytes.count + tailBytes.count <= 14 else { return nil }
        headBytes += [UInt8](repeating: 0, count: 16 - headBytes.count - tailBytes.count)
        return headBytes + tailBytes
    }

    /// The bytes of `a:b:c` (each 1-4 hex digits; the last may be an IPv4 quad); empty text
    /// is zero groups.
    private static func ipv6Groups(_ text: Substring, allowTrailingIPv4: Bool) -> [UInt8]? {
        guard !text.isEmpty else { return [] }
        let groups = text.split(separator: ":", omittingEmptySubsequences: false)
        var bytes: [UInt8] = []
        for (index, group) in groups.enumerated() {
            if index == groups.count - 1, allowTrailingIPv4, group.contains(".") {
                guard let v4 = ipv4(group) else { return nil }
                bytes += v4
                continue
            }
            guard (1...4).contains(group.utf8.count), let value = UInt16(group, radix: 16),
                group.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
            else { return nil }
            bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
        }
        return bytes.count <= 16 ? bytes : nil
    }

    /// An IPv4 or IPv6 literal (no brackets) as 4 or 16 bytes; nil when neither.
    package static func ipAddress(_ text: Substring) -> [UInt8]? {
        text.contains(":") ? ipv6(text) : ipv4(text)
    }

    /// `HOST:PORT` where HOST is an IPv4 literal, a bracketed IPv6 literal (`[::1]:8080`) or
    /// `localhost`. The returned host has no brackets.
    /// - Parameter allowPortZero: true for listeners (port 0 binds an ephemeral port, as
    ///   tests do); false for upstream servers, which need a real port.
    /// - Throws: `ConfigValueError` naming what is wrong.
    /// A DNS host name (RFC 1123 labels of letters, digits and `-`, dot-separated; at most
    /// 253 characters): what TLS sends as SNI and checks the certificate against.
    package static func isHostName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { $0 == UInt8(ascii: "-") || ($0 < 128 && (Character(UnicodeScalar($0)).isLetter || Character(UnicodeScalar($0)).isNumber)) }
        }
    }

    package static func hostPort(_ text: String, allowPortZero: Bool) throws(ConfigValueError) -> (host: String, port: UInt16) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ConfigValueError("invalid address \"\(text)\": missing \"]\"")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw ConfigValueError("invalid address \"\(text)\": missing port (expected [IPV6]:PORT)")
            }
            portText = rest.dropFirst()
            guard ipv6(host) != nil else { throw ConfigValueError("invalid IPv6 address \"\(host)\"") }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ConfigValueError("invalid address \"\(text)\": missing port (expected HOST:PORT)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                throw ConfigValueError("invalid address \"\(text)\": write IPv6 addresses in brackets, like [::1]:8080")
            }
            guard host == "localhost" || ipv4(host) != nil else {
                throw ConfigValueError("invalid host \"\(host)\": expected an IPv4 address, [IPv6] address or localhost")
            }
        }
        guard let port = decimal(portText), port <= 65535, allowPortZero || port >= 1 else {
            throw ConfigValueError("invalid port \"\(portText)\": expected \(allowPortZero ? 0 : 1)...65535")
        }
        return (String(host), UInt16(port))
    }

    /// A listen address (`127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`); port 0 allowed.
    /// - Throws: `ConfigValueError` as `hostPort` does.
    package static func listenAddress(_ text: String) throws(ConfigValueError) -> ListenAddress {
        let (host, port) = try hostPort(text, allowPortZero: true)
        return ListenAddress(host: host, port: port)
    }

    /// A network `ADDRESS/PREFIX` (`10.0.0.0/8`, `::1/128`) or a bare address (full-length
    /// prefix). Strict: an address with bits set beyond the prefix is an error, since it
    /// usually means a typo in the prefix length.
    /// - Throws: `ConfigValueError` for a bad address, prefix, or host bits set.
    package static func cidr(_ text: String) throws(ConfigValueError) -> CIDR {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = ipAddress(parts[0]) else {
            throw ConfigValueError("invalid network \"\(text)\"; expected ADDRESS or ADDRESS/PREFIX like 10.0.0.0/8")
        }
        let maxLength = address.count * 8
        var prefixLength = maxLength
        if parts.count == 2 {
            guard parts[1].utf8.count <= 3, let length = decimal(parts[1]), length <= maxLength,
                parts[1] == "0" || !parts[1].hasPrefix("0")
            else {
                throw ConfigValueError("invalid prefix length \"\(parts[1])\" in \"\(text)\"; expected 0...\(maxLength)")
            }
            prefixLength = length
        }
        var network = address
        var remaining = prefixLength
        for i in 0..<network.count {
            let bits = max(0, min(8, remaining))
            network[i] &= bits == 0 ? 0 : ~(0xFF >> UInt8(bits))
            remaining -= bits
        }
        let result = CIDR(address: network, prefixLength: prefixLength)
        guard network == address else {
            throw ConfigValueError("host bits set in \"\(text)\"; did you mean \(result)?")
        }
        return result
    }
}
