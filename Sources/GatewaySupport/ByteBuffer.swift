/// A growable byte queue for socket I/O: bytes are appended at the tail and consumed from the
/// head, and the storage is reused (compacted, not reallocated) for the connection's life.
///
/// Loop-confined (not `Sendable`). Owns its storage and frees it in `deinit`.
package final class ByteBuffer {
    private var storage: UnsafeMutableRawPointer
    package private(set) var capacity: Int
    package private(set) var readerIndex = 0
    package private(set) var writerIndex = 0

    package init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        // Owned here, freed in deinit; never escapes except through scoped accessors.
        storage = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// Bytes waiting to be consumed.
    @inline(__always) package var readableCount: Int { writerIndex - readerIndex }
    @inline(__always) package var isEmpty: Bool { writerIndex == readerIndex }

    /// The unconsumed bytes; valid until the next mutation.
    @inline(__always) package var readableBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + readerIndex, count: writerIndex - readerIndex)
    }

    /// Drops `count` bytes from the front. An emptied buffer rewinds to offset 0.
    @inline(__always) package func consume(_ count: Int) {
        readerIndex += count
        if readerIndex == writerIndex {
            readerIndex = 0
            writerIndex = 0
        }
    }

    package func clear() {
        readerIndex = 0
        writerIndex = 0
    }

    /// Makes room for at least `count` more bytes at the tail (compacting first, growing only
    /// when compaction is not enough) and returns the writable region.
    package func reserveTail(_ count: Int) -> UnsafeMutableRawBufferPointer {
        if capacity - writerIndex < count {
            if readerIndex > 0 {
                let live = writerIndex - readerIndex
                if live > 0 { (storage).copyMemory(from: storage + readerIndex, byteCount: live) }
                readerIndex = 0
                writerIndex = live
            }
            if capacity - writerIndex < count {
                var newCapacity = capacity * 2
                while newCapacity - writerIndex < count { newCapacity *= 2 }
                let newStorage = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
                newStorage.copyMemory(from: storage, byteCount: writerIndex)
                storage.deallocate()
                storage = newStorage
                capacity = newCapacity
            }
        }
        return UnsafeMutableRawBufferPointer(start: storage + writerIndex, count: capacity - writerIndex)
    }

    /// Free space at the tail without growing (compacts when the head has been consumed).
    package func tailSpace() -> UnsafeMutableRawBufferPointer {
        if readerIndex > 0 && capacity - writerIndex < capacity / 4 {
            let live = writerIndex - readerIndex
            if live > 0 { storage.copyMemory(from: storage + readerIndex, byteCount: live) }
            readerIndex = 0
            writerIndex = live
        }
        return UnsafeMutableRawBufferPointer(start: storage + writerIndex, count: capacity - writerIndex)
    }

    /// Records that `count` bytes were written into the region `reserveTail`/`tailSpace` returned.
    @inline(__always) package func commit(_ count: Int) { writerIndex += count }

    package func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        let tail = reserveTail(bytes.count)
        tail.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        writerIndex += bytes.count
    }

    package func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    package func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always) package func append(byte: UInt8) {
        let tail = reserveTail(1)
        tail[0] = byte
        writerIndex += 1
    }

    /// Appends `value` in lower-case hexadecimal followed by CRLF: a chunk-size line.
    package func appendChunkHeader(_ value: Int) {
        let tail = reserveTail(18)
        var digits = 0
        var v = UInt64(value)
        repeat { digits += 1; v >>= 4 } while v != 0
        v = UInt64(value)
        for i in stride(from: digits - 1, through: 0, by: -1) {
            let nibble = UInt8(v & 0xF)
            tail[i] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
            v >>= 4
        }
        tail[digits] = 0x0D
        tail[digits + 1] = 0x0A
        writerIndex += digits + 2
    }

    /// Shrinks storage back to `capacity` when it grew past `limit` and is empty (a big burst
    /// must not pin memory on an idle keep-alive connection).
    package func shrinkIfIdle(limit: Int, to newCapacity: Int) {
        guard isEmpty, capacity > limit else { return }
        storage.deallocate()
        capacity = newCapacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        readerIndex = 0
        writerIndex = 0
    }
}

@available(*, unavailable)
extension ByteBuffer: Sendable {}
