import GatewayHTTP
import Testing

/// Bytes of `text` with every scalar ≤ U+00FF as one byte (Latin-1), so tests can write
/// `"\u{0}"`, `"\u{7F}"` or `"\u{FF}"` for raw bytes.
func latin1(_ text: String) -> [UInt8] {
    text.unicodeScalars.map { scalar in
        precondition(scalar.value <= 0xFF, "not a single byte: \(scalar)")
        return UInt8(scalar.value)
    }
}

/// The bytes of `range` as text, for assertions.
func text(_ bytes: [UInt8], _ range: ByteRange?) -> String? {
    guard let range else { return nil }
    return String(decoding: bytes[range.start ..< range.start + range.count], as: UTF8.self)
}

/// Parses `bytes` with a fresh parser in one call; nil when the head is incomplete.
func parseRequest(_ bytes: [UInt8], maxHeadBytes: Int = 16 * 1024, maxHeaderCount: Int = 100) throws -> RequestHead? {
    var parser = RequestHeadParser(maxHeadBytes: maxHeadBytes, maxHeaderCount: maxHeaderCount)
    var head = RequestHead()
    let done = try bytes.withUnsafeBytes { buffer throws(HTTPParseError) in try parser.parse(buffer, into: &head) }
    return done ? head : nil
}

/// Parses `bytes` with a fresh parser fed one more byte per call (prefixes of growing length).
func parseRequestByteByByte(_ bytes: [UInt8], maxHeadBytes: Int = 16 * 1024, maxHeaderCount: Int = 100) throws -> RequestHead? {
    var parser = RequestHeadParser(maxHeadBytes: maxHeadBytes, maxHeaderCount: maxHeaderCount)
    var head = RequestHead()
    for length in 0 ... bytes.count {
        let done = try bytes.withUnsafeBytes { buffer throws(HTTPParseError) in
            try parser.parse(UnsafeRawBufferPointer(rebasing: buffer[0 ..< length]), into: &head)
        }
        if done { return head }
    }
    return nil
}

/// Parses `bytes` with a fresh parser in two calls: the first `split` bytes, then all of them.
func parseRequestSplit(_ bytes: [UInt8], at split: Int) throws -> RequestHead? {
    var parser = RequestHeadParser()
    var head = RequestHead()
    for length in [split, bytes.count] {
        let done = try bytes.withUnsafeBytes { buffer throws(HTTPParseError) in
            try parser.parse(UnsafeRawBufferPointer(rebasing: buffer[0 ..< length]), into: &head)
        }
        if done { return head }
    }
    return nil
}

/// Parses a response head in one call; nil when incomplete.
func parseResponse(_ bytes: [UInt8], maxHeadBytes: Int = 64 * 1024, maxHeaderCount: Int = 200) throws -> ResponseHead? {
    var parser = ResponseHeadParser(maxHeadBytes: maxHeadBytes, maxHeaderCount: maxHeaderCount)
    var head = ResponseHead()
    let done = try bytes.withUnsafeBytes { buffer throws(HTTPParseError) in try parser.parse(buffer, into: &head) }
    return done ? head : nil
}

/// Parses a response head fed one more byte per call.
func parseResponseByteByByte(_ bytes: [UInt8]) throws -> ResponseHead? {
    var parser = ResponseHeadParser()
    var head = ResponseHead()
    for length in 0 ... bytes.count {
        let done = try bytes.withUnsafeBytes { buffer throws(HTTPParseError) in
            try parser.parse(UnsafeRawBufferPointer(rebasing: buffer[0 ..< length]), into: &head)
        }
        if done { return head }
    }
    return nil
}

/// Parses a response head in two calls: the first `split` bytes, then all of them.
func parseResponseSplit(_ bytes: [UInt8], at split: Int) throws -> ResponseHead? {
    var parser = ResponseHeadParser()
    var head = ResponseHead()
    for length in [split, bytes.count] {
        let done = try bytes.withUnsafeBytes { buffer throws(HTTPParseError) in
            try parser.parse(UnsafeRawBufferPointer(rebasing: buffer[0 ..< length]), into: &head)
        }
        if done { return head }
    }
    return nil
}

/// A message that must be refused, with the error it must be refused with.
struct Rejection: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var error: HTTPParseError

    init(_ name: String, _ text: String, _ error: HTTPParseError) {
        self.name = name
        self.bytes = latin1(text)
        self.error = error
    }

    var testDescription: String { name }
}
