/// Why ``JSONParser`` rejected its input. `offset` is the byte offset where parsing stopped;
/// descriptions never contain input bytes.
package struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong.
    package enum Kind: Sendable, Equatable {
        /// Input longer than the configured limit.
        case tooLarge
        /// Nesting deeper than the configured limit.
        case tooDeep
        /// Grammar violation (trailing comma, comment, leading zero, bad literal, trailing data...).
        case syntax
        /// Bad string: control character, invalid escape, lone surrogate, invalid UTF-8.
        case invalidString
        /// A number that overflows to infinity.
        case numberOutOfRange
        /// An object with the same key twice.
        case duplicateKey
    }

    /// What was wrong.
    package var kind: Kind
    /// The byte offset where parsing stopped.
    package var offset: Int

    package var description: String { "json \(kind) at byte \(offset)" }
}

/// A strict RFC 8259 JSON parser over bytes, for JOSE headers and JWT claim sets.
///
/// Strict: no trailing commas, comments, leading zeros, `NaN`/`Infinity`, single quotes or
/// unescaped control characters; escapes are validated (surrogate pairs combined, lone
/// surrogates rejected); strings must be valid UTF-8; duplicate object keys are rejected;
/// only space, tab, LF and CR count as whitespace; nothing may follow the value. Nesting is
/// bounded (default 32 levels, the outermost array or object is level 1) so hostile input
/// cannot exhaust the stack. Any thread.
package struct JSONParser: ~Copyable {
    /// Default nesting limit.
    package static let defaultMaxDepth = 32

    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private let maxDepth: Int
    private var depth = 0
    private var scratch: [UInt8] = []

    private init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Parses one JSON text.
    /// - Parameters:
    ///   - bytes: the whole text (UTF-8).
    ///   - maxDepth: nesting limit (levels of arrays/objects).
    ///   - maxBytes: size limit in bytes.
    /// - Throws: `JSONParseError` for anything that is not one strict JSON value.
    package static func parse(
        _ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth, maxBytes: Int = 8192
    ) throws(JSONParseError) -> JSONValue {
        guard bytes.count <= maxBytes else { throw JSONParseError(kind: .tooLarge, offset: 0) }
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.fail(.syntax) }
        return value
    }

    /// Parses a byte array; see ``parse(_:maxDepth:maxBytes:)``. Returns a `Result` so callers
    /// need no typed-throws closure inside `withUnsafeBytes`.
    package static func parse(
        _ bytes: [UInt8], maxDepth: Int = defaultMaxDepth, maxBytes: Int = 8192
    ) -> Result<JSONValue, JSONParseError> {
        bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                try parse(buffer, maxDepth: maxDepth, maxBytes: maxBytes)
            }
        }
    }

    @inline(never)
    private func fail(_ kind: JSONParseError.Kind) -> JSONParseError {
        JSONParseError(kind: kind, offset: index)
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw fail(.syntax) }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] { throw fail(.syntax) }
        index += count
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard let byte = current else { throw fail(.syntax) }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail(.syntax)
        }
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        guard depth <= maxDepth else { throw fail(.tooDeep) }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1  // {
        var members: [(String, JSONValue)] = []
        // Small objects: linear duplicate scan; larger ones switch to a set (hostile key floods).
        var seen: Set<String>? = nil
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            guard current == UInt8(ascii: "\"") else { throw fail(.syntax) }
            let keyOffset = index
            let key = try parseString()
            if seen == nil, members.count >= 16 { seen = Set(members.map(\.0)) }
            let duplicate: Bool
            if seen != nil {
                duplicate = !seen!.insert(key).inserted
            } else {
                duplicate = members.contains { $0.0 == key }
            }
            if duplicate { throw JSONParseError(kind: .duplicateKey, offset: keyOffset) }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw fail(.syntax) }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append((key, value))
            skipWhitespace()
            guard let next = current else { throw fail(.syntax) }
            index += 1
            if next == UInt8(ascii: "}") { break }
            guard next == UInt8(ascii: ",") else { index -= 1; throw fail(.syntax) }
            skipWhitespace()
        }
        depth -= 1
        return .object(members)
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            guard let next = current else { throw fail(.syntax) }
            index += 1
            if next == UInt8(ascii: "]") { break }
            guard next == UInt8(ascii: ",") else { index -= 1; throw fail(.syntax) }
            skipWhitespace()
        }
        depth -= 1
        return .array(elements)
    }

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var negative = false
        if current == UInt8(ascii: "-") { negative = true; index += 1 }
        guard let first = current, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { throw fail(.syntax) }
        // Exact Int64 accumulation (negative, so Int64.min fits); nil once it overflows.
        var exact: Int64? = 0
        if first == UInt8(ascii: "0") {
            index += 1
            if let next = current, next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") { throw fail(.syntax) }
        } else {
            while let digit = current, digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") {
                if let value = exact {
                    let (times, o1) = value.multipliedReportingOverflow(by: 10)
                    let (next, o2) = times.subtractingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
                    exact = o1 || o2 ? nil : next
                }
                index += 1
            }
        }
        var integral = true
        if current == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard let digit = current, digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { throw fail(.syntax) }
            while let digit = current, digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") { index += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            integral = false
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard let digit = current, digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { throw fail(.syntax) }
            while let digit = current, digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") { index += 1 }
        }
        var exactValue: Int64? = nil
        if integral, let value = exact {
            if negative {
                exactValue = value
            } else if value != Int64.min {
                exactValue = -value
            }
        }
        // Integers up to 2^53 convert exactly without building a String (dates, counters).
        if let exactValue, exactValue.magnitude <= 1 << 53 {
            return .number(negative && exactValue == 0 ? -0.0 : Double(exactValue), exact: exactValue)
        }
        // The grammar is validated above; the standard library's conversion handles the rest.
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else {
            index = start
            throw fail(.numberOutOfRange)
        }
        return .number(double, exact: exactValue)
    }

    private mutating func hexQuad() throws(JSONParseError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw fail(.invalidString) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: throw fail(.invalidString)
            }
            value = value << 4 | UInt32(nibble)
            index += 1
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self) else {
                    throw fail(.invalidString)
                }
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail(.invalidString) }
            index += 1
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                guard let text = String(validating: scratch, as: UTF8.self) else { throw fail(.invalidString) }
                index += 1
                return text
            }
            if byte < 0x20 { throw fail(.invalidString) }
            if byte != UInt8(ascii: "\\") {
                scratch.append(byte)
                index += 1
                continue
            }
            index += 1
            guard let escape = current else { throw fail(.invalidString) }
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                let unit = try hexQuad()
                switch unit {
                case 0xD800...0xDBFF:
                    guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw fail(.invalidString)
                    }
                    index += 2
                    let low = try hexQuad()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail(.invalidString) }
                    appendUTF8(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                case 0xDC00...0xDFFF:
                    throw fail(.invalidString)
                default:
                    appendUTF8(unit)
                }
            default:
                throw fail(.invalidString)
            }
        }
        throw fail(.invalidString)
    }
}
