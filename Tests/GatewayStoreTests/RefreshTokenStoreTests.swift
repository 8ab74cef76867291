import GatewayCore
import GatewayStore
import Testing

/// Refresh-token families in a real SQLite file: rotation, reuse detection, binding to the key,
/// lifetimes, revocation (SPEC §10, RFC 9700 §4.14).
@Suite("Refresh tokens")
struct RefreshTokenStoreTests {
    /// A store with one key, and a family started for it.
    func withFamily<T>(
        ttl: Int = 3600, familyTTL: Int = 86_400,
        _ body: (KeyStore, TestClock, KeyRecord, RefreshGrant) throws -> T
    ) throws -> T {
        try withTemporaryDirectory { dir in
            let clock = TestClock()
            return try withStore(in: dir, clock: clock) { store in
                let key = try store.createKey(name: "agent", principal: "agent-1", permissions: ["memory:read", "memory:write"], prefix: "gw")
                let grant = try store.issueRefreshToken(
                    keyID: key.record.id, principalID: "agent-1", scope: ["memory:read"], ttl: ttl, familyTTL: familyTTL)
                return try body(store, clock, key.record, grant)
            }
        }
    }

    func rotated(_ outcome: RefreshOutcome) -> RefreshGrant? {
        if case .rotated(let grant, _) = outcome { return grant }
        return nil
    }

    @Test("a token rotates once; its successor keeps the family, key, principal and scope")
    func rotation() throws {
        try withFamily { store, clock, key, first in
            #expect(first.token.hasPrefix("gwrt."))
            clock.now += 10
            let second = try #require(rotated(try store.rotateRefreshToken(first.token, ttl: 3600)))
            #expect(second.token != first.token)
            #expect(second.familyID == first.familyID)
            #expect(second.keyID == key.id)
            #expect(second.principalID == "agent-1")
            #expect(second.scope == ["memory:read"])
            #expect(second.expiresAt == clock.now + 3600)
            let third = try #require(rotated(try store.rotateRefreshToken(second.token, ttl: 3600)))
            #expect(third.familyID == first.familyID)
        }
    }

    @Test("presenting a used token revokes the whole family, the newest token included")
    func reuseDetection() throws {
        try withFamily { store, _, key, first in
            let second = try #require(rotated(try store.rotateRefreshToken(first.token, ttl: 3600)))
            #expect(try store.rotateRefreshToken(first.token, ttl: 3600) == .reused(familyID: first.familyID, keyID: key.id, principalID: "agent-1"))
            #expect(try store.rotateRefreshToken(second.token, ttl: 3600) == .invalid(reason: "refresh_revoked"))
            // Presented a third time it is still a reuse (and still ends nothing more).
            #expect(try store.rotateRefreshToken(first.token, ttl: 3600) == .reused(familyID: first.familyID, keyID: key.id, principalID: "agent-1"))
        }
    }

    @Test("revoking a principal's tokens ends the refresh families begun before the cut-off")
    func principalRevocation() throws {
        try withFamily { store, clock, _, first in
            clock.now += 10
            try store.revokePrincipalTokens(principalID: "agent-1", issuedBefore: clock.now)
            #expect(try store.rotateRefreshToken(first.token, ttl: 3600) == .invalid(reason: "refresh_revoked"))
        }
    }

    @Test("a deleted principal's keys stay revoked, and it gets no new key")
    func deletedPrincipal() throws {
        try withFamily { store, _, key, _ in
            try store.deletePrincipal(id: "agent-1")
            var patch = KeyPatch()
            patch.active = true
            #expect(throws: StoreError.self) { try store.updateKey(id: key.id, patch) }
            #expect(throws: StoreError.self) { try store.createKey(name: "again", principal: "agent-1", prefix: "gw") }
        }
    }

    @Test("revoking the key ends its families")
    func boundToKey() throws {
        try withFamily { store, _, key, first in
            try store.revoke(id: key.id)
            #expect(try store.rotateRefreshToken(first.token, ttl: 3600) == .invalid(reason: "refresh_revoked"))
        }
    }

    @Test("a client that authenticates as another key cannot use the token, nor use it up")
    func boundToClient() throws {
        try withFamily { store, _, key, first in
            let mismatch = try store.rotateRefreshToken(first.token, ttl: 3600, clientKeyID: "someone-else")
            #expect(mismatch == .invalid(reason: "refresh_client_mismatch"))
            #expect(rotated(try store.rotateRefreshToken(first.token, ttl: 3600, clientKeyID: key.id)) != nil)
        }
    }

    @Test("a key rotated away ends its families when its grace period ends")
    func keyGrace() throws {
        try withFamily { store, clock, key, first in
            _ = try store.rotate(id: key.id, grace: 60)
            clock.now += 30
            let second = try #require(rotated(try store.rotateRefreshToken(first.token, ttl: 3600)))
            clock.now += 31
            #expect(try store.rotateRefreshToken(second.token, ttl: 3600) == .invalid(reason: "refresh_key_revoked"))
        }
    }

    @Test("a token expires after its ttl; no successor outlives the family")
    func lifetimes() throws {
        try withFamily(ttl: 100, familyTTL: 150) { store, clock, _, first in
            #expect(first.expiresAt == clock.now + 100)
            clock.now += 99
            let second = try #require(rotated(try store.rotateRefreshToken(first.token, ttl: 100)))
            #expect(second.expiresAt == clock.now + 51)   // capped at the family's end
            clock.now += 51
            #expect(try store.rotateRefreshToken(second.token, ttl: 100) == .invalid(reason: "refresh_expired"))
        }
    }

    @Test("forged, altered and foreign tokens are invalid", arguments: [
        "", "gwrt.", "gwrt.a.b", "gw_abc", "Bearer gwrt.x.y", "gwrt.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ])
    func forged(token: String) throws {
        try withFamily { store, _, _, _ in
            let outcome = try store.rotateRefreshToken(token, ttl: 3600)
            guard case .invalid = outcome else {
                Issue.record("accepted \(token)")
                return
            }
        }
    }

    @Test("the right id with a wrong secret is invalid and does not use the token up")
    func wrongSecret() throws {
        try withFamily { store, _, _, first in
            var altered = Array(first.token)
            altered[altered.count - 2] = altered[altered.count - 2] == "A" ? "B" : "A"
            let forged = try store.rotateRefreshToken(String(altered), ttl: 3600)
            #expect(forged == .invalid(reason: "refresh_unknown"))
            let genuine = try store.rotateRefreshToken(first.token, ttl: 3600)
            #expect(rotated(genuine) != nil)
        }
    }

    @Test("RFC 7009 revocation ends the family; an unknown token is not an error")
    func revocation() throws {
        try withFamily { store, _, key, first in
            let revoked = try #require(try store.revokeRefreshToken(first.token))
            #expect(revoked.keyID == key.id)
            #expect(try store.rotateRefreshToken(first.token, ttl: 3600) == .invalid(reason: "refresh_revoked"))
            #expect(try store.revokeRefreshToken("gwrt.nothing.here") == nil)
        }
    }

    @Test("the store keeps only hashes: no refresh secret is in the file")
    func onlyHashes() throws {
        try withFamily { store, _, _, first in
            let secret = String(first.token.split(separator: ".").last!)
            let stored = try store.database.query("SELECT hex(secret_sha256) FROM refresh_tokens") { $0.text(0) }
            #expect(stored.count == 1)
            #expect(!stored[0].contains(secret))
        }
    }

    @Test("ended families are purged after the retention")
    func purge() throws {
        try withFamily(ttl: 10, familyTTL: 10) { store, clock, _, _ in
            clock.now += 100
            let purged = try store.purgeRefreshFamilies(retention: 50)
            #expect(purged == 1)
            let left = try store.database.scalarInt("SELECT COUNT(*) FROM refresh_tokens")
            #expect(left == 0)
        }
    }
}

@Suite("Audit log")
struct AuditLogStoreTests {
    @Test("events are listed newest first, filtered and paged by cursor")
    func listing() throws {
        try withTemporaryDirectory { dir in
            try withStore(in: dir) { store in
                try store.appendAudit((0..<5).map { i in
                    AuditEvent(time: 100 + i, kind: i % 2 == 0 ? "token_issued" : "auth_failure", outcome: i % 2 == 0 ? "success" : "failure",
                               principalID: i < 3 ? "a" : "b", detail: "n\(i)")
                })
                let all = try store.auditEvents(AuditFilter())
                #expect(all.map(\.detail) == ["n4", "n3", "n2", "n1", "n0"])
                var filter = AuditFilter()
                filter.principalID = "a"
                filter.outcome = "success"
                #expect(try store.auditEvents(filter).map(\.detail) == ["n2", "n0"])
                var page = AuditFilter()
                page.limit = 2
                let first = try store.auditEvents(page)
                page.before = first.last?.id
                #expect(try store.auditEvents(page).map(\.detail) == ["n2", "n1"])
                var window = AuditFilter()
                window.since = 101
                window.until = 103
                #expect(try store.auditEvents(window).map(\.detail) == ["n2", "n1"])
            }
        }
    }

    @Test("retention drops old events and keeps at most the newest rows")
    func retention() throws {
        try withTemporaryDirectory { dir in
            let clock = TestClock(1000)
            try withStore(in: dir, clock: clock) { store in
                try store.appendAudit((0..<10).map { AuditEvent(time: 900 + $0 * 10, kind: "k", outcome: "success", detail: "\($0)") })
                try store.pruneAudit(maxAge: 55, maxRows: 3)
                #expect(try store.auditEvents(AuditFilter()).map(\.detail) == ["9", "8", "7"])
            }
        }
    }
}
