/// Parser for upstream response heads: strict on framing (an ambiguous upstream response is a
/// 502, never forwarded), as in-place and incremental as `RequestHeadParser`.
package struct ResponseHeadParser: Sendable {
    package var maxHeadBytes: Int
    package var maxHeaderCount: Int

    package init(maxHeadBytes: Int = 64 * 1024, maxHeaderCount: Int = 200) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
    }

    package mutating func reset() { fatalError("unimplemented") }

    /// Same contract as `RequestHeadParser.parse`.
    package mutating func parse(_ bytes: UnsafeRawBufferPointer, into head: inout ResponseHead) throws(HTTPParseError) -> Bool {
        fatalError("unimplemented")
    }
}
