/// A parsed JSON value (RFC 8259) from ``JSONParser``: JOSE headers and JWT claim sets.
///
/// Objects keep their members in document order; keys are unique (the parser rejects
/// duplicates, RFC 7515 §5.2 / RFC 8725 §3.?).
package enum JSONValue: Sendable {
    /// An object's members in document order, keys unique.
    case object([(String, JSONValue)])
    /// An array.
    case array([JSONValue])
    /// A string (valid Unicode; escapes resolved).
    case string(String)
    /// A finite number; `exact` is set when the literal is an integer (no fraction or exponent)
    /// that fits in `Int64`.
    case number(Double, exact: Int64?)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// The member `key` of an object (linear scan: JWT objects are small); `nil` for a missing
    /// key or when `self` is not an object.
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for (name, value) in members where name == key { return value }
        return nil
    }

    /// The string, when `self` is a string.
    package var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// Whether `self` is an object.
    package var isObject: Bool {
        if case .object = self { return true }
        return false
    }
}

extension JSONValue: Equatable {
    /// Structural equality; object members compare in order.
    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for index in a.indices where a[index].0 != b[index].0 || a[index].1 != b[index].1 { return false }
            return true
        case (.array(let a), .array(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.number(let a, let x), .number(let b, let y)): return a == b && x == y
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }
}
