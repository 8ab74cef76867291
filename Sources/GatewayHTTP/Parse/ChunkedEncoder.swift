/// Writes the framing of the chunked transfer coding (RFC 9112 §7.1) around payload the caller
/// sends itself (typically with `writev`, so the payload is never copied).
///
/// A chunked body is, for each chunk, `appendChunkHeader(size:)` + payload + `appendChunkEnd`,
/// then `appendLastChunk` once. Sizes are written in lowercase hex without leading zeros.
package enum ChunkedEncoder {
    /// Appends `<hex size>\r\n`, the line that opens a chunk of `size` payload bytes.
    ///
    /// `size` must be positive: a zero-size chunk would end the body (use `appendLastChunk`).
    @inlinable
    package static func appendChunkHeader(size: Int, to out: inout [UInt8]) {
        precondition(size > 0, "a zero-size chunk ends the body; use appendLastChunk")
        var shift = (Int.bitWidth &- size.leadingZeroBitCount &- 1) & ~3
        while shift >= 0 {
            let digit = UInt8(truncatingIfNeeded: size >> shift) & 0xF
            out.append(digit < 10 ? 0x30 &+ digit : 0x57 &+ digit)
            shift &-= 4
        }
        out.append(0x0D)
        out.append(0x0A)
    }

    /// Appends the `\r\n` that closes a chunk's payload.
    @inlinable
    package static func appendChunkEnd(to out: inout [UInt8]) {
        out.append(0x0D)
        out.append(0x0A)
    }

    /// Appends the last chunk with an empty trailer section, `0\r\n\r\n`, which ends the body.
    @inlinable
    package static func appendLastChunk(to out: inout [UInt8]) {
        out.append(0x30)
        out.append(0x0D)
        out.append(0x0A)
        out.append(0x0D)
        out.append(0x0A)
    }
}
