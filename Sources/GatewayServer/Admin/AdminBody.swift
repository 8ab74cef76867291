import GatewayCore

/// A JSON request body of the admin API: one object whose members are read by name and type.
/// Unknown members are refused (a typo must not silently do nothing).
struct AdminBody {
    private let members: [(String, JSONValue)]
    private let allowed: Set<String>

    /// - Parameter allowed: the member names this request takes.
    init(_ bytes: [UInt8], allowed: Set<String>) throws(AdminError) {
        self.allowed = allowed
        guard !bytes.isEmpty else {
            members = []
            return
        }
        guard case .success(.object(let members)) = JSONParser.parse(bytes, maxBytes: AdminBody.maxBytes) else {
            throw .invalid("The body must be a JSON object.")
        }
        for (name, _) in members where !allowed.contains(name) {
            throw .invalid("Unknown member \"\(Self.printable(name))\".")
        }
        self.members = members
    }

    /// Bodies are small documents.
    static let maxBytes = 64 * 1024

    private func value(_ name: String) -> JSONValue? {
        precondition(allowed.contains(name), "undeclared member \(name)")
        return members.first { $0.0 == name }?.1
    }

    /// A string member; nil when absent. - Throws: when present with another type (or null).
    func string(_ name: String) throws(AdminError) -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value else { throw .invalid("\"\(name)\" must be a string.") }
        return text
    }

    /// A member that may be cleared: nil when absent, `.some(nil)` for null.
    func nullableString(_ name: String) throws(AdminError) -> String?? {
        guard let value = value(name) else { return nil }
        if case .null = value { return .some(nil) }
        guard case .string(let text) = value else { throw .invalid("\"\(name)\" must be a string or null.") }
        return .some(text)
    }

    func strings(_ name: String) throws(AdminError) -> [String]? {
        guard let value = value(name) else { return nil }
        guard case .array(let items) = value else { throw .invalid("\"\(name)\" must be an array of strings.") }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw .invalid("\"\(name)\" must be an array of strings.") }
            strings.append(text)
        }
        return strings
    }

    func bool(_ name: String) throws(AdminError) -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let flag) = value else { throw .invalid("\"\(name)\" must be true or false.") }
        return flag
    }

    func integer(_ name: String) throws(AdminError) -> Int? {
        guard let value = value(name) else { return nil }
        // JSON has one number type: 5.0 is the integer 5 (as JSON Schema counts it).
        guard case .number(let number, _) = value, let integer = Int(exactly: number) else {
            throw .invalid("\"\(name)\" must be an integer.")
        }
        return integer
    }

    func nullableInteger(_ name: String) throws(AdminError) -> Int?? {
        guard let value = value(name) else { return nil }
        if case .null = value { return .some(nil) }
        return .some(try integer(name))
    }

    /// A name for an error message: at most 64 visible ASCII characters.
    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.prefix(64).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
    }
}
