import GatewayHTTP

enum HTTPTargets {
    static func requestHead(_ input: UnsafeRawBufferPointer) {
        guard let head = parseRequest(input) else { return }
        fuzzCheck(head.headLength <= input.count, "head longer than the input")
        var again: [UInt8] = []
        again += input[head.methodRange.start..<head.methodRange.start + head.methodRange.count]
        again += Array(" ".utf8)
        again += input[head.target.start..<head.target.start + head.target.count]
        again += Array(" HTTP/1.\(head.minorVersion)\r\n".utf8)
        appendFields(head.headers, input, to: &again)
        again.withUnsafeBytes { bytes in
            guard let second = parseRequest(bytes) else { return fuzzCheck(false, "a re-serialized request head is refused") }
            fuzzCheck(second.method == head.method && second.minorVersion == head.minorVersion, "request line changed")
            fuzzCheck(slice(bytes, second.target) == slice(input, head.target), "target changed")
            fuzzCheck(fields(second.headers, bytes) == fields(head.headers, input), "header fields changed")
            fuzzCheck(
                second.contentLength == head.contentLength && second.isChunked == head.isChunked
                    && second.connectionClose == head.connectionClose && second.expectContinue == head.expectContinue,
                "framing changed")
            fuzzCheck(slice(bytes, second.path) == slice(input, head.path), "path changed")
        }
    }

    static func responseHead(_ input: UnsafeRawBufferPointer) {
        guard let head = parseResponse(input) else { return }
        fuzzCheck(head.headLength <= input.count && (100...999).contains(head.status), "bad head length or status")
        var again = Array("HTTP/1.\(head.minorVersion) \(head.status) ".utf8)
        again += input[head.reason.start..<head.reason.start + head.reason.count]
        again += Array("\r\n".utf8)
        appendFields(head.headers, input, to: &again)
        again.withUnsafeBytes { bytes in
            guard let second = parseResponse(bytes) else { return fuzzCheck(false, "a re-serialized response head is refused") }
            fuzzCheck(second.status == head.status && second.minorVersion == head.minorVersion, "status line changed")
            fuzzCheck(fields(second.headers, bytes) == fields(head.headers, input), "header fields changed")
            fuzzCheck(
                second.contentLength == head.contentLength && second.isChunked == head.isChunked
                    && second.connectionClose == head.connectionClose, "framing changed")
        }
    }

    /// Decodes the input whole, then byte by byte: payload, trailers and outcome must match.
    static func chunked(_ input: UnsafeRawBufferPointer) {
        let whole = decode(input, step: input.count)
        let split = decode(input, step: 1)
        fuzzCheck(whole == split, "chunked decoding depends on how the input is split: \(whole) vs \(split)")
    }

    private struct Decoded: Equatable {
        var payload: [UInt8] = []
        var trailers: [[UInt8]] = []
        var outcome = "needMore"
    }

    /// Feeds `input` to a decoder `step` bytes at a time, as a connection would (unconsumed
    /// bytes are presented again with the next ones).
    private static func decode(_ input: UnsafeRawBufferPointer, step: Int) -> Decoded {
        var decoder = ChunkedDecoder()
        var result = Decoded()
        var start = 0      // the first unconsumed input byte
        var fed = 0        // input bytes presented so far
        while true {
            fed = min(input.count, fed + max(1, step))
            while true {
                let pending = UnsafeRawBufferPointer(rebasing: input[start..<fed])
                let step = Result { () throws(HTTPParseError) -> ChunkedStep in try decoder.next(pending) }
                switch step {
                case .failure:
                    result.outcome = "error"
                    return result
                case .success(.needMore(let consumed)):
                    start += consumed
                case .success(.data(let offset, let count, let consumed)):
                    result.payload += pending[offset..<offset + count]
                    start += consumed
                    continue
                case .success(.done(let consumed)):
                    result.outcome = "done+\(input.count - start - consumed)"
                    result.trailers = decoder.trailers.map { $0.name + [0x3A] + $0.value }
                    return result
                }
                break
            }
            if fed == input.count { return result }
        }
    }

    private static func parseRequest(_ bytes: UnsafeRawBufferPointer) -> RequestHead? {
        var parser = RequestHeadParser()
        var head = RequestHead()
        guard (try? parser.parse(bytes, into: &head)) == true else { return nil }
        return head
    }

    private static func parseResponse(_ bytes: UnsafeRawBufferPointer) -> ResponseHead? {
        var parser = ResponseHeadParser()
        var head = ResponseHead()
        guard (try? parser.parse(bytes, into: &head)) == true else { return nil }
        return head
    }

    private static func appendFields(_ headers: [HeaderField], _ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        for field in headers {
            out += bytes[field.nameStart..<field.nameStart + field.nameCount]
            out += Array(": ".utf8)
            out += bytes[field.valueStart..<field.valueStart + field.valueCount]
            out += Array("\r\n".utf8)
        }
        out += Array("\r\n".utf8)
    }

    private static func fields(_ headers: [HeaderField], _ bytes: UnsafeRawBufferPointer) -> [[UInt8]] {
        headers.map { field in
            Array(bytes[field.nameStart..<field.nameStart + field.nameCount]) + [0]
                + Array(bytes[field.valueStart..<field.valueStart + field.valueCount])
        }
    }

    private static func slice(_ bytes: UnsafeRawBufferPointer, _ range: ByteRange) -> [UInt8] {
        Array(bytes[range.start..<range.start + range.count])
    }
}
