/// Incremental decoder for the chunked transfer coding (RFC 9112 §7.1), strict about sizes,
/// extensions, CRLFs and trailers.
///
/// The caller owns the buffer: each `next` call looks at the unconsumed bytes, and the caller
/// drops `consumed` bytes from the front before the next call (bytes not consumed, such as a
/// half-received chunk-size line, must be presented again with more data appended).
package struct ChunkedDecoder: Sendable {
    /// The largest trailer section accepted.
    package var maxTrailerBytes: Int

    /// Trailer fields received after the last chunk, each as raw name and value bytes.
    package private(set) var trailers: [(name: [UInt8], value: [UInt8])] = []

    package init(maxTrailerBytes: Int = 16 * 1024) {
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// True once the last chunk and the trailer section were consumed.
    package var isDone: Bool { fatalError("unimplemented") }

    package mutating func reset() { fatalError("unimplemented") }

    /// Decodes from `input`.
    package mutating func next(_ input: UnsafeRawBufferPointer) throws(HTTPParseError) -> ChunkedStep {
        fatalError("unimplemented")
    }
}

/// One step of chunked decoding. Offsets are into the `input` given to `next`.
package enum ChunkedStep: Sendable, Equatable {
    /// Nothing more can be decoded from this input; drop `consumed` bytes and call again with more.
    case needMore(consumed: Int)
    /// `input[offset ..< offset + count]` is payload; drop `consumed` bytes (which end at
    /// `offset + count`) and call again.
    case data(offset: Int, count: Int, consumed: Int)
    /// The body (last chunk and trailers) ended after `consumed` bytes.
    case done(consumed: Int)
}
