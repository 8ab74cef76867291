/// Strict HTTP/1.1 request-head parser (RFC 9112, SPEC §14) working on bytes in place.
///
/// Incremental: call `parse` each time more bytes arrived, always with the buffer starting at
/// the first byte of the request; the parser remembers how far it scanned.
package struct RequestHeadParser: Sendable {
    package var maxHeadBytes: Int
    package var maxHeaderCount: Int

    package init(maxHeadBytes: Int = 16 * 1024, maxHeaderCount: Int = 100) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
    }

    /// Forgets the scan position; call before parsing the next request of a connection.
    package mutating func reset() { fatalError("unimplemented") }

    /// Parses `bytes` (which start at the request's first byte) into `head`.
    /// - Returns: true when the head is complete (`head.headLength` bytes), false when more
    ///   bytes are needed.
    /// - Throws: `.headTooLarge` when no end was found within `maxHeadBytes`, or any other
    ///   `HTTPParseError` as soon as a violation is seen (even before the head is complete).
    package mutating func parse(_ bytes: UnsafeRawBufferPointer, into head: inout RequestHead) throws(HTTPParseError) -> Bool {
        fatalError("unimplemented")
    }
}
