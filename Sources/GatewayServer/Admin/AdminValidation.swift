import GatewayCore
import GatewaySupport

/// The admin API's input rules. Identity values travel in headers exactly as stored (SPEC
/// §8), so they follow the same rules as `gateway keys create`.
enum AdminValidation {
    /// The longest `grace_seconds` of a rotation: 30 days.
    static let maxGrace = 30 * 86_400
    /// How long a `jti` revocation without `expires_at` is kept: 30 days, longer than any
    /// sensible access-token lifetime.
    static let defaultRevocationLifetime = 30 * 86_400

    /// Principal ids: 1 to 128 of `A-Z a-z 0-9 . _ : @ -`, starting with a letter or digit
    /// (they appear in paths, where `.` and `..` would be dot segments, and in headers).
    static func identifier(_ id: String, _ name: String) throws(AdminError) {
        guard isIdentifier(id) else { throw .invalid("\"\(name)\" is 1 to 128 of A-Z a-z 0-9 . _ : @ -, starting with A-Z a-z 0-9.") }
    }

    static func isIdentifier(_ id: String) -> Bool {
        guard let first = id.utf8.first, isAlphanumeric(first), (1...128).contains(id.utf8.count) else { return false }
        return id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// An audit `kind` or `outcome` filter: 1 to 64 of `a-z _`.
    static func word(_ text: String?, _ name: String) throws(AdminError) {
        guard let text else { return }
        guard (1...64).contains(text.utf8.count), text.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || $0 == UInt8(ascii: "_") })
        else { throw .invalid("\"\(name)\" is 1 to 64 of a-z and _.") }
    }

    /// Values that reach identity headers (SPEC §8): texts (1 to 256 bytes) hold no control
    /// character and no leading or trailing whitespace; permissions and roles (1 to 128 bytes)
    /// are visible ASCII without `,`, `"` or `\` (SPEC §6), as the OpenAPI document says.
    static func identityValues(
        principal: String, orgID: String?, permissions: [String] = [], roles: [String] = [], texts: [String?] = []
    ) throws(AdminError) {
        let identity = Identity(userID: principal, orgID: orgID, permissions: permissions, roles: roles, method: .apiKey)
        let textsSafe = ([orgID] + texts).compactMap { $0 }.allSatisfy {
            (1...256).contains($0.utf8.count) && Identity(userID: $0, method: .apiKey).isRepresentableInHeaders
        }
        let namesSafe = (permissions + roles).allSatisfy { name in
            (1...128).contains(name.utf8.count)
                && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        }
        guard identity.isRepresentableInHeaders, textsSafe, namesSafe, permissions.count <= 256, roles.count <= 64 else {
            throw .invalid(
                "Names, e-mails and org ids (1 to 256 bytes) may not hold control characters or leading/trailing whitespace; "
                    + "permissions and roles (1 to 128 bytes) are visible ASCII without , \" or \\.")
        }
    }

    /// A key's own rate limit, as the store keeps it: `100/min` or `100/min burst=20`.
    static func rate(_ text: String?) throws(AdminError) {
        guard let text else { return }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count <= 2, (try? ConfigValue.storedRate(text)) != nil else {
            throw .invalid("\"rate_limit\" is a rate such as 100/min or 100/min burst=20.")
        }
    }

    /// The latest time the API takes: the end of year 9999.
    static let maxTime = 253_402_300_799

    /// Unix seconds from 0 to `maxTime` (a past time makes a key expired).
    static func time(_ value: Int?, _ name: String) throws(AdminError) {
        guard let value else { return }
        guard (0...maxTime).contains(value) else { throw .invalid("\"\(name)\" is Unix seconds from 0 to \(maxTime).") }
    }
}

/// A listing's query: `limit` (1 to 1000, default 100), `cursor`, and the listing's filters.
/// Any other parameter is refused.
struct Page {
    let limit: Int
    let cursor: String?
    let parameters: [String: String]

    init(_ query: [UInt8], extra: Set<String> = []) throws(AdminError) {
        let parsed: OAuthParameters
        do {
            parsed = try OAuthParameters.form(query)
        } catch {
            throw .invalid("The query is malformed or repeats a parameter.")
        }
        for name in parsed.values.keys where !extra.contains(name) && name != "limit" && name != "cursor" {
            throw .invalid("Unknown query parameter \"\(AdminBody.printable(name))\".")
        }
        parameters = parsed.values
        if let text = parsed["limit"] {
            guard let limit = Int(text), (1...1000).contains(limit) else { throw .invalid("\"limit\" is 1 to 1000.") }
            self.limit = limit
        } else {
            limit = 100
        }
        cursor = parsed["cursor"]
        if let cursor, !AdminValidation.isIdentifier(cursor) { throw .invalid("\"cursor\" is not a cursor of this listing.") }
        if let principal = parameters["principal_id"] { try AdminValidation.identifier(principal, "principal_id") }
    }

    func integer(_ name: String) throws(AdminError) -> Int? {
        guard let text = parameters[name] else { return nil }
        guard let value = Int(text) else { throw .invalid("\"\(name)\" is an integer.") }
        try AdminValidation.time(value, name)
        return value
    }

    /// `{"items":[...],"next_cursor":...}` from up to `limit + 1` rows (one more tells whether
    /// another page exists).
    func answer<T>(_ rows: [T], cursor: (T) -> String, json: (T) -> [UInt8]) -> AdminResponse {
        let items = Array(rows.prefix(limit))
        var out = JSONObjectWriter()
        out.array("items", items.map(json))
        out.nullable("next_cursor", rows.count > limit ? items.last.map(cursor) : nil)
        return AdminResponse(status: 200, body: out.finished())
    }
}
