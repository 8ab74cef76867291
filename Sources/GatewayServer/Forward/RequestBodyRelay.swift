import GatewayCore
import GatewayHTTP
import GatewaySupport

/// The request body on its way upstream, as a state machine over buffers (no sockets): a
/// `Content-Length` body is copied through byte for byte; a chunked body is decoded and
/// re-framed (extensions dropped, trailers filtered, SPEC §8) with `max_body` enforced as it
/// arrives. The connection reads and flushes; this decides what moves and when it is done.
struct RequestBodyRelay {
    /// Where the body stands.
    enum Framing: Equatable {
        case none
        case length(remaining: Int64)
        case chunked
        case done
    }

    /// What one step did.
    enum Step: Equatable {
        /// Bytes moved to the upstream's buffer, or input was consumed; step again.
        case progress
        /// Nothing can be done with the input held: read more from the client first.
        case needInput
        /// The body is complete.
        case finished
        /// The body is malformed or too large: answer with this error (nothing more moves).
        case fail(GatewayError, reason: String)
    }

    private(set) var framing = Framing.none
    /// Some of the body reached the upstream: the request can no longer go to another server.
    private(set) var sentAny = false
    private var decoder = ChunkedDecoder()
    /// Chunked payload bytes relayed so far (checked against `max_body`).
    private var chunkedBytes: Int64 = 0
    private var maxBody: Int64 = 0
    /// The trailer that carries the API key, dropped like the header unless credentials are forwarded.
    private var credentialHeader: [UInt8] = []
    /// How many input bytes the decoder last found not enough (inside a chunk header): only
    /// more than that can make progress.
    private var stalledAt = 0

    init() {}

    /// - Parameters:
    ///   - maxBody: the `max_body` limit for a chunked body (a declared length is checked with the head).
    ///   - credentialHeader: the API-key header name, or empty when the route forwards credentials.
    init(head: RequestHead, maxBody: Int64, credentialHeader: [UInt8]) {
        if head.isChunked {
            framing = .chunked
        } else if let length = head.contentLength, length > 0 {
            framing = .length(remaining: length)
        }
        self.maxBody = maxBody
        self.credentialHeader = credentialHeader
    }

    /// A body is still to come from the client.
    var isActive: Bool {
        switch framing {
        case .length, .chunked: true
        case .none, .done: false
        }
    }

    /// Whether `available` input bytes are too few to step on: none, or no more than last time
    /// the decoder stalled.
    func wantsInput(available: Int) -> Bool {
        available == 0 || available <= stalledAt
    }

    /// Moves what it can from `input` (the client's bytes) to `output` (the upstream's buffer).
    mutating func step(from input: ByteBuffer, to output: ByteBuffer) -> Step {
        switch framing {
        case .none, .done:
            return .finished
        case .length(let remaining):
            guard !input.isEmpty else { return .needInput }
            let count = Int(min(Int64(input.readableCount), remaining))
            output.append(UnsafeRawBufferPointer(rebasing: input.readableBytes[0..<count]))
            input.consume(count)
            sentAny = true
            framing = remaining == Int64(count) ? .done : .length(remaining: remaining - Int64(count))
            return framing == .done ? .finished : .progress
        case .chunked:
            guard !wantsInput(available: input.readableCount) else { return .needInput }
            return stepChunked(from: input, to: output)
        }
    }

    private mutating func stepChunked(from input: ByteBuffer, to output: ByteBuffer) -> Step {
        let step: ChunkedStep
        do {
            step = try decoder.next(input.readableBytes)
        } catch {
            return .fail(.invalidRequest, reason: "bad_chunk")
        }
        switch step {
        case .data(let offset, let count, let consumed):
            chunkedBytes += Int64(count)
            if chunkedBytes > maxBody { return .fail(.payloadTooLarge, reason: "body_too_large") }
            output.appendChunkHeader(count)
            output.append(UnsafeRawBufferPointer(rebasing: input.readableBytes[offset..<offset + count]))
            output.append("\r\n")
            input.consume(consumed)
            stalledAt = 0
            sentAny = true
            return .progress
        case .needMore(let consumed):
            input.consume(consumed)
            stalledAt = input.readableCount
            return .needInput
        case .done(let consumed):
            input.consume(consumed)
            appendLastChunk(to: output)
            framing = .done
            sentAny = true
            return .finished
        }
    }

    /// The last chunk and the trailers that may be forwarded (not identity, hop-by-hop or
    /// framing fields, and not the API key unless credentials are forwarded).
    private func appendLastChunk(to out: ByteBuffer) {
        out.append("0\r\n")
        for (name, value) in decoder.trailers where TrailerPolicy.mayForward(name, credentialHeader: credentialHeader) {
            out.append(name)
            out.append(": ")
            out.append(value)
            out.append("\r\n")
        }
        out.append("\r\n")
    }
}
