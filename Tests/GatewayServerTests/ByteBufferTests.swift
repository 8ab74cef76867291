import GatewaySupport
import Testing

@Suite("ByteBuffer")
struct ByteBufferTests {
    @Test("append, consume and compaction keep the bytes in order")
    func appendConsume() {
        let buffer = ByteBuffer(capacity: 64)
        var model: [UInt8] = []
        for round in 0..<100 {
            let bytes = (0..<37).map { UInt8((round * 37 + $0) % 251) }
            buffer.append(bytes)
            model.append(contentsOf: bytes)
            let drop = min(buffer.readableCount, 30)
            buffer.consume(drop)
            model.removeFirst(drop)
            #expect(Array(buffer.readableBytes) == model)
        }
    }

    @Test("chunk-size lines are lower-case hex with CRLF", arguments: [(0, "0\r\n"), (10, "a\r\n"), (255, "ff\r\n"), (65536, "10000\r\n")])
    func chunkHeader(value: Int, expected: String) {
        let buffer = ByteBuffer()
        buffer.appendChunkHeader(value)
        #expect(String(decoding: Array(buffer.readableBytes), as: UTF8.self) == expected)
    }

    @Test("an emptied buffer rewinds, a grown idle buffer shrinks")
    func rewindAndShrink() {
        let buffer = ByteBuffer(capacity: 64)
        buffer.append(Array(repeating: 1, count: 4096))
        #expect(buffer.capacity >= 4096)
        buffer.consume(4096)
        #expect(buffer.readerIndex == 0 && buffer.writerIndex == 0)
        buffer.shrinkIfIdle(limit: 1024, to: 64)
        #expect(buffer.capacity == 64)
    }
}
