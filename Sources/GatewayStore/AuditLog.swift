/// One audit event (SPEC §15): an admin change, a token issuance, a refresh reuse, or a run of
/// authentication failures aggregated over a window (`count` > 1), so a flood of bad
/// credentials adds rows per window and reason, not per request.
package struct AuditEvent: Sendable, Equatable {
    /// Assigned by the store; 0 before insertion.
    package var id: Int = 0
    /// Unix seconds (for an aggregate: the start of its window).
    package var time: Int
    /// What happened: `auth_failure`, `token_issued`, `refresh_reuse`, `key_created`, ...
    package var kind: String
    /// `success`, `failure` or `denied`.
    package var outcome: String
    package var principalID: String? = nil
    package var keyID: String? = nil
    /// Who made an admin change (the admin's principal), when there is one.
    package var actor: String? = nil
    /// A short machine-readable detail (a failure reason, a grant type). Never a secret.
    package var detail: String = ""
    /// How many occurrences this row stands for.
    package var count: Int = 1

    package init(
        time: Int, kind: String, outcome: String, principalID: String? = nil, keyID: String? = nil, actor: String? = nil,
        detail: String = "", count: Int = 1
    ) {
        self.time = time
        self.kind = kind
        self.outcome = outcome
        self.principalID = principalID
        self.keyID = keyID
        self.actor = actor
        self.detail = detail
        self.count = count
    }
}

/// Which audit events a listing returns: newest first, `limit` at most, older than the
/// `before` cursor (an event id) when paging.
package struct AuditFilter: Sendable, Equatable {
    package var since: Int? = nil
    package var until: Int? = nil
    package var principalID: String? = nil
    package var outcome: String? = nil
    package var kind: String? = nil
    package var before: Int? = nil
    package var limit: Int = 100

    package init() {}
}

extension KeyStore {
    /// Appends events in one transaction.
    package func appendAudit(_ events: [AuditEvent]) throws(StoreError) {
        guard !events.isEmpty else { return }
        try database.transaction { () throws(StoreError) in
            let statement = try database.prepare(
                "INSERT INTO audit_events(time, kind, outcome, principal_id, key_id, actor, detail, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            for event in events {
                statement.bind([
                    .int(event.time), .text(event.kind), .text(event.outcome), .optional(event.principalID),
                    .optional(event.keyID), .optional(event.actor), .text(event.detail), .int(max(1, event.count)),
                ])
                while try statement.step() {}
                statement.reset()
            }
        }
    }

    /// The events matching `filter`, newest first.
    package func auditEvents(_ filter: AuditFilter) throws(StoreError) -> [AuditEvent] {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if let since = filter.since { conditions.append("time >= ?"); arguments.append(.int(since)) }
        if let until = filter.until { conditions.append("time < ?"); arguments.append(.int(until)) }
        if let principal = filter.principalID { conditions.append("principal_id = ?"); arguments.append(.text(principal)) }
        if let outcome = filter.outcome { conditions.append("outcome = ?"); arguments.append(.text(outcome)) }
        if let kind = filter.kind { conditions.append("kind = ?"); arguments.append(.text(kind)) }
        if let before = filter.before { conditions.append("id < ?"); arguments.append(.int(before)) }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        arguments.append(.int(min(max(1, filter.limit), 1000)))
        return try database.query(
            "SELECT id, time, kind, outcome, principal_id, key_id, actor, detail, count FROM audit_events\(whereClause) ORDER BY id DESC LIMIT ?",
            arguments
        ) { s throws(StoreError) in
            var event = AuditEvent(
                time: s.int(1), kind: s.text(2), outcome: s.text(3), principalID: s.optionalText(4), keyID: s.optionalText(5),
                actor: s.optionalText(6), detail: s.text(7), count: s.int(8))
            event.id = s.int(0)
            return event
        }
    }

    /// Bounded retention: drops events older than `maxAge` seconds, then the oldest beyond
    /// `maxRows`. - Returns: how many rows were deleted.
    @discardableResult
    package func pruneAudit(maxAge: Int, maxRows: Int) throws(StoreError) -> Int {
        try database.transaction { () throws(StoreError) -> Int in
            var deleted = try database.execute("DELETE FROM audit_events WHERE time < ?", [.int(clock() - maxAge)])
            deleted += try database.execute(
                "DELETE FROM audit_events WHERE id <= (SELECT id FROM audit_events ORDER BY id DESC LIMIT 1 OFFSET ?)",
                [.int(max(0, maxRows))])
            return deleted
        }
    }
}
