import Foundation
import GatewayStore
import Testing

@Suite("Crash safety")
struct CrashSafetyTests {
    /// Writes keys in a loop with WAL + synchronous=FULL, printing the count after each commit.
    static let writer = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("INSERT OR IGNORE INTO principals(id, created_at) VALUES ('crash', 0)")
        i = 0
        while True:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO api_keys(id, principal_id, name, prefix, secret_sha256, permissions, created_at) "
                       "VALUES (?, 'crash', ?, 'gw_', randomblob(32), hex(randomblob(2000)), 0)", ("k%011d" % i, "n%d" % i))
            db.execute("UPDATE store_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'change_counter'")
            db.execute("COMMIT")
            i += 1
            print(i, flush=True)
        """

    @Test("kill -9 during writes loses no commit and leaves an intact store")
    func killDuringWrites() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/keys.db"
            try KeyStore(path: path).close()

            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", Self.writer, path]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()

            var text = ""
            var lastCommitted = 0
            let reader = output.fileHandleForReading
            while lastCommitted < 150 {
                let chunk = reader.availableData
                if chunk.isEmpty { break }  // the writer died on its own
                text += String(decoding: chunk, as: UTF8.self)
                let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
                if text.hasSuffix("\n"), let last = lines.last.flatMap({ Int($0) }) { lastCommitted = last }
            }
            #expect(process.isRunning, "the writer stopped early")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // Lines printed after the last read are commits too.
            text += String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
            if let last = text.split(separator: "\n").compactMap({ Int($0) }).last { lastCommitted = last }
            #expect(lastCommitted >= 150)

            let store = try KeyStore(path: path)
            defer { store.close() }
            #expect(try store.database.scalarText("PRAGMA integrity_check") == "ok")
            let keys = try store.listKeys()
            #expect(keys.count >= lastCommitted)
            #expect(try store.changeCounter() == keys.count)
            #expect(try store.loadIndexSnapshot().records.count == keys.count)
            // The store is still writable.
            _ = try store.createKey(name: "after", principal: "crash", prefix: "gw_")
        }
    }
}
