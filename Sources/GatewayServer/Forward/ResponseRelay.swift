import GatewayCore
import GatewayHTTP
import GatewaySupport

/// The upstream response of one forwarded request, relayed to the client: reads the head
/// (skipping interim `1xx`), decides how the body reaches the client, and re-frames it.
///
/// A pure state machine over buffers, as SwiftNIO's pipeline handlers are: `step` consumes
/// upstream bytes, appends what the client gets to `output`, and returns what the caller must
/// do (no sockets, no timers, no connection state), so every framing rule is unit-tested
/// without a socket.
struct ResponseRelay {
    enum Stage: Equatable {
        case awaitingHead
        case body(BodyFraming, remaining: Int64)
    }

    /// What the client's request asks of the response.
    struct Request {
        var method: HTTPMethod
        /// 0 for HTTP/1.0 (no chunked encoding: an unframed body is sent until close).
        var clientMinorVersion: Int
        /// The client connection stays open after this response.
        var keepAlive: Bool
        /// The request asked for a WebSocket upgrade (only then is a `101` acceptable).
        var wantsUpgrade: Bool
    }

    /// What the caller does next.
    enum Action: Equatable {
        /// Everything usable was consumed: wait for more upstream bytes.
        case needMore
        /// The final head is in `output` (the upstream's read timeout stops); call again.
        case headWritten
        /// A WebSocket switch: the `101` head is in `output`; both sides are tunnelled from here.
        case tunnel
        /// The response is complete; `reusable`: the upstream connection may serve another.
        case complete(reusable: Bool)
        /// Nothing reached the client yet, and nothing will: answer this error instead.
        /// `upstreamAtFault`: the server broke the protocol (counts against its health).
        case fail(GatewayError, reason: String, upstreamAtFault: Bool)
        /// The upstream's body broke after the head was sent (a malformed chunk, or the
        /// connection ended early): the client connection must be dropped so the client cannot
        /// take a truncated body for a whole one.
        case abort
    }

    private(set) var stage = Stage.awaitingHead
    private var chunks = ChunkedDecoder()
    /// The body is chunk-encoded for the client (re-framed), rather than passed as it is.
    private(set) var chunkToClient = false
    /// The client connection closes after this response.
    private(set) var closeAfter = false
    /// The final status relayed (0 before the head).
    private(set) var status = 0
    /// The head announced a body (a non-zero `Content-Length`, or `Transfer-Encoding`) that
    /// the method or status says is not there (HEAD, 204, 304). A server that sends it anyway
    /// would have it read as the next request's response on a reused connection, so the
    /// connection is not reused.
    private var announcedBodyNotExpected = false

    init() {}

    /// Relays what `input` holds. The head is parsed into `head` with `parser` (the upstream
    /// connection's); `extraHeaders` (rate-limit lines) go into the client's head.
    mutating func step(
        _ input: ByteBuffer, head: inout ResponseHead, parser: inout ResponseHeadParser, request: Request, draining: Bool,
        extraHeaders: [UInt8], builder: inout ResponseHeadBuilder, output: ByteBuffer
    ) -> Action {
        switch stage {
        case .awaitingHead:
            return readHead(input, head: &head, parser: &parser, request: request, draining: draining,
                            extraHeaders: extraHeaders, builder: &builder, output: output)
        case .body(let framing, let remaining):
            return relayBody(input, framing: framing, remaining: remaining, output: output)
        }
    }

    /// The upstream closed its connection.
    mutating func upstreamEnded(output: ByteBuffer) -> Action {
        switch stage {
        case .awaitingHead:
            return .fail(.upstreamUnavailable, reason: "upstream_reset", upstreamAtFault: true)
        case .body(.untilClose, _):
            if chunkToClient { output.append(Self.lastChunk) }
            return .complete(reusable: false)
        case .body:
            return .abort   // truncated
        }
    }

    private mutating func readHead(
        _ input: ByteBuffer, head: inout ResponseHead, parser: inout ResponseHeadParser, request: Request, draining: Bool,
        extraHeaders: [UInt8], builder: inout ResponseHeadBuilder, output: ByteBuffer
    ) -> Action {
        while true {
            let complete: Bool
            do {
                complete = try parser.parse(input.readableBytes, into: &head)
            } catch {
                return .fail(.upstreamUnavailable, reason: "upstream_bad_response", upstreamAtFault: true)
            }
            guard complete else { return .needMore }
            guard head.status / 100 == 1 && head.status != 101 else { break }
            // Interim responses (100, 103) are not relayed; the read timeout runs on.
            input.consume(head.headLength)
            parser.reset()
            head.reset()
        }
        status = head.status
        if status == 101 {
            // Only a WebSocket switch that the client asked for is tunnelled (SPEC §8): any
            // other protocol would carry unchecked requests past the gateway.
            guard request.wantsUpgrade, head.upgradeWebSocket, head.connectionUpgrade else {
                return .fail(.upstreamUnavailable, reason: "upstream_unexpected_101", upstreamAtFault: false)
            }
            builder.append(head: head, bytes: input.readableBytes, chunked: false, close: false,
                           keepAliveForHTTP10: false, upgrade: true, to: output)
            input.consume(head.headLength)
            return .tunnel
        }
        let clientHTTP11 = request.clientMinorVersion >= 1
        if head.hasOtherTransferCodings && !clientHTTP11 {
            // `gzip, chunked` cannot reach an HTTP/1.0 client, which has no transfer codings.
            return .fail(.upstreamUnavailable, reason: "upstream_transfer_coding", upstreamAtFault: false)
        }
        let framing = head.bodyFraming(requestMethod: request.method)
        announcedBodyNotExpected = framing == .none && (head.isChunked || (head.contentLength ?? 0) > 0)
        var close = !request.keepAlive || draining
        switch framing {
        case .chunked, .untilClose:
            chunkToClient = clientHTTP11
            if !clientHTTP11 { close = true }
        case .none, .contentLength:
            chunkToClient = false
        }
        closeAfter = close
        builder.append(
            head: head, bytes: input.readableBytes, chunked: chunkToClient, close: close,
            keepAliveForHTTP10: !clientHTTP11 && !close, upgrade: false, extraHeaders: extraHeaders, to: output)
        input.consume(head.headLength)
        switch framing {
        case .none:
            stage = .body(.none, remaining: 0)   // the next step completes it
        case .contentLength(let length):
            stage = .body(framing, remaining: length)
        case .chunked:
            chunks.reset()
            stage = .body(framing, remaining: 0)
        case .untilClose:
            stage = .body(framing, remaining: 0)
        }
        return .headWritten
    }

    private mutating func relayBody(_ input: ByteBuffer, framing: BodyFraming, remaining: Int64, output: ByteBuffer) -> Action {
        while true {
            let available = input.readableBytes
            switch framing {
            case .contentLength:
                let count = Int(min(Int64(available.count), remaining))
                output.append(UnsafeRawBufferPointer(rebasing: available[0..<count]))
                input.consume(count)
                if remaining == Int64(count) { return .complete(reusable: true) }
                stage = .body(framing, remaining: remaining - Int64(count))
                return .needMore
            case .chunked:
                let step: ChunkedStep
                do {
                    step = try chunks.next(available)
                } catch {
                    return .abort
                }
                switch step {
                case .data(let offset, let count, let consumed):
                    appendToClient(UnsafeRawBufferPointer(rebasing: available[offset..<offset + count]), output)
                    input.consume(consumed)
                case .needMore(let consumed):
                    input.consume(consumed)
                    return .needMore
                case .done(let consumed):
                    input.consume(consumed)
                    if chunkToClient { output.append(Self.lastChunk) }
                    return .complete(reusable: true)
                }
            case .untilClose:
                appendToClient(available, output)
                input.consume(available.count)
                return .needMore
            case .none:
                return .complete(reusable: !announcedBodyNotExpected)
            }
        }
    }

    /// Body bytes for the client, chunk-encoded when the response is re-framed.
    private func appendToClient(_ bytes: UnsafeRawBufferPointer, _ output: ByteBuffer) {
        guard bytes.count > 0 else { return }
        if chunkToClient {
            output.appendChunkHeader(bytes.count)
            output.append(bytes)
            output.append("\r\n")
        } else {
            output.append(bytes)
        }
    }

    private static let lastChunk: StaticString = "0\r\n\r\n"
}
