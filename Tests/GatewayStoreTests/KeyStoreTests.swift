import Foundation
import GatewayCrypto
import GatewayCore
import GatewayStore
import Synchronization
import Testing

@Suite("Key store")
struct KeyStoreTests {
    @Test("migrations run from an empty file and are idempotent")
    func migrations() throws {
        try withTemporaryDirectory { dir in
            let db = try Database(path: dir + "/m.db")
            defer { db.close() }
            #expect(try Migrations.currentVersion(of: db) == 0)
            #expect(try Migrations.migrate(db, now: 1) == [1, 2, 3, 4])
            #expect(try Migrations.currentVersion(of: db) == Migrations.latestVersion)
            #expect(try Migrations.migrate(db, now: 2) == [])
            #expect(try db.scalarInt("SELECT COUNT(*) FROM schema_migrations") == 4)
            let tables = try db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") { $0.text(0) }
            #expect(tables == [
                "api_keys", "audit_events", "principal_revocations", "principals", "refresh_families", "refresh_tokens", "revoked_tokens",
                "schema_migrations", "sqlite_sequence", "store_meta",
            ])
            #expect(try db.scalarText("SELECT value FROM store_meta WHERE key = 'change_counter'") == "0")
            // Reopening through KeyStore migrates nothing more.
            let store = try KeyStore(path: dir + "/m.db")
            store.close()
        }
    }

    @Test("several connections opening a fresh file at once migrate it exactly once")
    func concurrentOpen() throws {
        try withTemporaryDirectory { dir in
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do {
                    let store = try KeyStore(path: dir + "/c.db")
                    store.close()
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [])
            let db = try Database(path: dir + "/c.db")
            defer { db.close() }
            #expect(try db.scalarInt("SELECT COUNT(*) FROM schema_migrations") == Migrations.latestVersion)
        }
    }

    @Test("a schema newer than the code is refused")
    func schemaTooNew() throws {
        try withTemporaryDirectory { dir in
            let db = try Database(path: dir + "/n.db")
            try Migrations.migrate(db, now: 1)
            try db.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (99, 0)")
            db.close()
            expectStoreError(.schemaTooNew) { try KeyStore(path: dir + "/n.db") }
        }
    }

    @Test("connection settings: WAL, synchronous FULL, foreign keys, busy timeout")
    func settings() throws {
        try withTemporaryDirectory { dir in
            let db = try Database(path: dir + "/s.db")
            defer { db.close() }
            #expect(try db.scalarText("PRAGMA journal_mode") == "wal")
            #expect(try db.scalarInt("PRAGMA synchronous") == 2)
            #expect(try db.scalarInt("PRAGMA foreign_keys") == 1)
            #expect(try db.scalarInt("PRAGMA busy_timeout") == 5000)
        }
    }

    @Test("errors carry codes and SQL but not bound values")
    func errors() throws {
        try withTemporaryDirectory { dir in
            try withStore(in: dir) { store in
                do throws(StoreError) {
                    try store.database.execute(
                        "INSERT INTO api_keys(id, principal_id, name, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                        [.text("topsecretvalue"), .text("nobody"), .text("n"), .text("gw_"), .int(0)])
                    Issue.record("foreign key not enforced")
                } catch {
                    #expect(error.kind == .sqlite)
                    #expect(error.primaryCode == 19)  // SQLITE_CONSTRAINT
                    #expect(error.extendedCode == 787)  // SQLITE_CONSTRAINT_FOREIGNKEY
                    #expect(error.sql?.contains("INSERT INTO api_keys") == true)
                    #expect(!error.description.contains("topsecretvalue"))
                }
                #expect(throws: StoreError.self) { try store.database.execute("SELEC nonsense") }
            }
        }
    }

    @Test("closed database throws closed")
    func closed() throws {
        try withTemporaryDirectory { dir in
            let db = try Database(path: dir + "/c.db")
            db.close()
            db.close()
            expectStoreError(.closed) { try db.execute("SELECT 1") }
        }
    }

    @Test("create, list, show, revoke")
    func createListShowRevoke() throws {
        try withTemporaryDirectory { dir in
            let clock = TestClock(1000)
            try withStore(in: dir, clock: clock) { store in
                let (record, fullKey) = try store.createKey(
                    name: "ci", principal: "svc-ci", permissions: ["orders:read", "orders:write"], roles: ["ops"],
                    rateLimit: "100/min", expiresAt: 5000, orgID: "acme", prefix: "gw_")
                let parsed = try #require(APIKeyFormat.parse(fullKey, prefixes: ["gw_"]))
                #expect(parsed.id == record.id)
                #expect(record.createdAt == 1000)
                #expect(record.secretHash == nil && record.legacyHash == nil)

                clock.now = 1001
                let second = try store.createKey(name: "other", principal: "svc-ci", prefix: "gw_")
                let listed = try store.listKeys()
                #expect(listed.map(\.id) == [record.id, second.record.id])
                #expect(listed.allSatisfy { $0.secretHash == nil && $0.legacyHash == nil })
                #expect(!listed[0].description.contains(fullKey))
                let shown = try #require(try store.key(id: record.id))
                #expect(shown == record)
                #expect(shown.permissions == ["orders:read", "orders:write"])
                #expect(shown.roles == ["ops"])
                #expect(shown.rateLimit == "100/min")
                #expect(shown.orgID == "acme")
                #expect(shown.expiresAt == 5000)
                #expect(second.record.permissions.isEmpty && second.record.roles.isEmpty && second.record.expiresAt == nil)
                #expect(try store.key(id: "nosuchkey000") == nil)
                #expect(try store.database.scalarInt("SELECT COUNT(*) FROM principals") == 1)

                let revoked = try store.revoke(id: record.id)
                #expect(!revoked.active)
                #expect(try store.key(id: record.id)?.active == false)
                expectStoreError(.notFound) { try store.revoke(id: "nosuchkey000") }
                expectStoreError(.invalidArgument) { try store.createKey(name: "x", principal: "p", prefix: "bad prefix") }
            }
        }
    }

    @Test("revoked token ids reach the index until an hour past their expiry (any leeway)")
    func revokedTokens() throws {
        try withTemporaryDirectory { dir in
            let clock = TestClock(1000)
            let grace = KeyStore.revokedTokenGrace
            try withStore(in: dir, clock: clock) { store in
                let before = try store.changeCounter()
                try store.revokeToken(jti: "t1", expiresAt: 2000)
                try store.revokeToken(jti: "t2", expiresAt: 1500)
                try store.revokeToken(jti: "t1", expiresAt: 1200)   // an earlier expiry never shortens it
                #expect(try store.changeCounter() > before)
                var index = APIKeyIndex(snapshot: try store.loadIndexSnapshot())
                #expect(index.isTokenRevoked("t1") && index.isTokenRevoked("t2") && !index.isTokenRevoked("t3"))
                clock.now = 1530   // past t2's exp, within a verifier's leeway
                index = APIKeyIndex(snapshot: try store.loadIndexSnapshot())
                #expect(index.isTokenRevoked("t2"))
                clock.now = 1500 + grace + 100
                index = APIKeyIndex(snapshot: try store.loadIndexSnapshot())
                #expect(index.isTokenRevoked("t1") && !index.isTokenRevoked("t2"))
                try store.revokeToken(jti: "t3", expiresAt: 1500 + grace + 3000)   // purges t2's row
                #expect(try store.database.scalarInt("SELECT COUNT(*) FROM revoked_tokens") == 2)
                expectStoreError(.invalidArgument) { try store.revokeToken(jti: "", expiresAt: 3000) }
            }
        }
    }

    @Test("rotate keeps the settings and gives the old key a grace period")
    func rotate() throws {
        try withTemporaryDirectory { dir in
            let clock = TestClock(10_000)
            try withStore(in: dir, clock: clock) { store in
                let old = try store.createKey(name: "deploy", principal: "p1", permissions: ["a"], roles: ["r"], rateLimit: "5/s", prefix: "sk_")
                clock.now = 10_100
                let new = try store.rotate(id: old.record.id, grace: 3600)
                #expect(new.record.id != old.record.id)
                #expect(new.record.rotatedFrom == old.record.id)
                #expect(new.record.permissions == ["a"] && new.record.roles == ["r"] && new.record.rateLimit == "5/s")
                #expect(new.record.principalID == "p1" && new.record.prefix == "sk_")
                #expect(APIKeyFormat.parse(new.fullKey, prefixes: ["sk_"])?.id == new.record.id)
                let oldNow = try #require(try store.key(id: old.record.id))
                #expect(oldNow.graceUntil == 13_700)
                #expect(oldNow.isUsable(at: 13_699) && !oldNow.isUsable(at: 13_700))
                // Rotating again never extends the grace.
                _ = try store.rotate(id: old.record.id, grace: 99_999)
                #expect(try store.key(id: old.record.id)?.graceUntil == 13_700)
                try store.revoke(id: new.record.id)
                expectStoreError(.conflict) { try store.rotate(id: new.record.id) }
                expectStoreError(.notFound) { try store.rotate(id: "nosuchkey000") }
                let expiring = try store.createKey(name: "e", principal: "p1", expiresAt: 10_200, prefix: "sk_")
                clock.now = 10_200
                expectStoreError(.conflict) { try store.rotate(id: expiring.record.id) }
                expectStoreError(.invalidArgument) { try store.rotate(id: old.record.id, grace: -1) }
            }
        }
    }

    @Test("legacy import stores the given hash")
    func importLegacy() throws {
        try withTemporaryDirectory { dir in
            try withStore(in: dir) { store in
                let legacyKey = "ck_live_0123456789abcdef"
                let hex = Digest.sha256(Array(legacyKey.utf8)).map { String($0, radix: 16).leftPad(2) }.joined()
                let record = try store.importLegacy(sha256Hex: hex, prefix: "ck_", name: "old", principal: "legacy-user", permissions: ["x"])
                #expect(record.isLegacy)
                #expect(record.id.utf8.count == 12)
                let snapshot = try store.loadIndexSnapshot()
                let row = try #require(snapshot.records.first { $0.id == record.id })
                #expect(row.legacyHash == Digest.sha256(Array(legacyKey.utf8)))
                #expect(row.secretHash == nil)
                #expect(throws: StoreError.self) { try store.importLegacy(sha256Hex: hex, prefix: "ck_", name: "dup", principal: "u") }
                expectStoreError(.invalidArgument) { try store.importLegacy(sha256Hex: "abc", prefix: "ck_", name: "n", principal: "u") }
                expectStoreError(.invalidArgument) { try store.importLegacy(sha256Hex: String(repeating: "g", count: 64), prefix: "ck_", name: "n", principal: "u") }
                expectStoreError(.conflict) { try store.rotate(id: record.id) }
            }
        }
    }

    @Test("the secret and the whole key never reach the files")
    func secretNeverStored() throws {
        try withTemporaryDirectory { dir in
            var secrets: [[UInt8]] = []
            let store = try KeyStore(path: dir + "/keys.db")
            for i in 0..<5 {
                let made = try store.createKey(name: "k\(i)", principal: "p", prefix: "gw_")
                let parsed = try #require(APIKeyFormat.parse(made.fullKey, prefixes: ["gw_"]))
                secrets.append(parsed.secret)
                secrets.append(Array(made.fullKey.utf8))
            }
            let rotated = try store.rotate(id: try store.listKeys()[0].id, grace: 10)
            secrets.append(Array(rotated.fullKey.utf8))
            // Check the WAL before the checkpoint, then the main file after it.
            var files = try FileManager.default.contentsOfDirectory(atPath: dir)
            #expect(files.contains("keys.db-wal"))
            for name in files {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
                for secret in secrets { #expect(!bytes.containsSubsequence(secret), "\(name)") }
            }
            store.close()
            files = try FileManager.default.contentsOfDirectory(atPath: dir)
            for name in files {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
                for secret in secrets { #expect(!bytes.containsSubsequence(secret), "\(name)") }
            }
            // The hash is what is stored.
            let db = try Database(path: dir + "/keys.db")
            defer { db.close() }
            let hash = Digest.sha256(secrets[0])
            #expect(try db.scalarInt("SELECT COUNT(*) FROM api_keys WHERE secret_sha256 = ?", [.blob(hash)]) == 1)
        }
    }

    @Test("two connections see each other's commits")
    func twoConnections() throws {
        try withTemporaryDirectory { dir in
            let a = try KeyStore(path: dir + "/keys.db")
            let b = try KeyStore(path: dir + "/keys.db")
            defer { a.close(); b.close() }
            let made = try a.createKey(name: "one", principal: "p", prefix: "gw_")
            #expect(try b.key(id: made.record.id)?.name == "one")
            try b.revoke(id: made.record.id)
            #expect(try a.key(id: made.record.id)?.active == false)
            #expect(try a.changeCounter() == b.changeCounter())
        }
    }

    @Test("the change counter moves on every authentication-relevant write")
    func changeCounter() throws {
        try withTemporaryDirectory { dir in
            try withStore(in: dir) { store in
                #expect(try store.changeCounter() == 0)
                let made = try store.createKey(name: "a", principal: "p", prefix: "gw_")
                #expect(try store.changeCounter() == 1)
                _ = try store.rotate(id: made.record.id, grace: 60)
                #expect(try store.changeCounter() == 2)
                try store.revoke(id: made.record.id)
                #expect(try store.changeCounter() == 3)
                try store.importLegacy(sha256Hex: String(repeating: "ab", count: 32), prefix: "ck_", name: "l", principal: "p")
                #expect(try store.changeCounter() == 4)
                try store.recordLastUsed([(made.record.id, 5)])
                #expect(try store.changeCounter() == 4)
                #expect(try store.createPrincipalIfMissing(id: "q", name: "Q", email: "q@example.com"))
                #expect(try !store.createPrincipalIfMissing(id: "q"))
                #expect(try store.changeCounter() == 4)
                // A failed write rolls back, counter included.
                #expect(throws: StoreError.self) {
                    try store.importLegacy(sha256Hex: String(repeating: "ab", count: 32), prefix: "ck_", name: "l", principal: "p")
                }
                #expect(try store.changeCounter() == 4)
                #expect(try store.loadIndexSnapshot().changeCounter == 4)
            }
        }
    }

    @Test("last-used times are recorded in a batch and never move back")
    func lastUsed() throws {
        try withTemporaryDirectory { dir in
            try withStore(in: dir) { store in
                let a = try store.createKey(name: "a", principal: "p", prefix: "gw_").record
                let b = try store.createKey(name: "b", principal: "p", prefix: "gw_").record
                try store.recordLastUsed([(a.id, 100), (b.id, 200), ("unknownid000", 1)])
                #expect(try store.key(id: a.id)?.lastUsedAt == 100)
                #expect(try store.key(id: b.id)?.lastUsedAt == 200)
                try store.recordLastUsed([(a.id, 50), (b.id, 300)])
                #expect(try store.key(id: a.id)?.lastUsedAt == 100)
                #expect(try store.key(id: b.id)?.lastUsedAt == 300)
                try store.recordLastUsed([])
            }
        }
    }

    @Test("the index snapshot has every key with its hashes")
    func snapshot() throws {
        try withTemporaryDirectory { dir in
            try withStore(in: dir) { store in
                var secrets: [String: [UInt8]] = [:]
                for i in 0..<3 {
                    let made = try store.createKey(name: "k\(i)", principal: "p\(i)", prefix: "gw_")
                    secrets[made.record.id] = try #require(APIKeyFormat.parse(made.fullKey, prefixes: ["gw_"])).secret
                }
                let snapshot = try store.loadIndexSnapshot()
                #expect(snapshot.records.count == 3)
                for record in snapshot.records {
                    #expect(record.secretHash == Digest.sha256(try #require(secrets[record.id])))
                    #expect(!record.description.contains("secret"))
                }
            }
        }
    }
}

extension String {
    func leftPad(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// The store thread's group commit (SPEC §15): jobs run as savepoints of one transaction.
@Suite("Nested transactions")
struct NestedTransactionTests {
    @Test("a failing inner transaction undoes only itself; the outer one commits the rest")
    func savepoints() throws {
        try withTemporaryDirectory { dir in
            try withStore(in: dir) { store in
                try store.database.transaction { () throws(StoreError) in
                    _ = try store.createPrincipal(id: "kept", name: nil, orgID: nil, email: nil)
                    #expect(throws: StoreError.self) {
                        try store.database.transaction { () throws(StoreError) in
                            _ = try store.createPrincipal(id: "undone", name: nil, orgID: nil, email: nil)
                            _ = try store.createPrincipal(id: "kept", name: nil, orgID: nil, email: nil)   // conflict
                        }
                    }
                    _ = try store.createPrincipal(id: "after", name: nil, orgID: nil, email: nil)
                }
                #expect(try store.listPrincipals(after: nil, limit: 10).map(\.id) == ["after", "kept"])
            }
        }
    }
}
