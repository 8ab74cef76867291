/// Writes one flat JSON object member by member (JWT headers and claims, JWKS entries, the
/// CLI's `--json` output) without Foundation. Strings are escaped by `JSON.appendString`.
package struct JSONObjectWriter {
    package private(set) var bytes: [UInt8] = [UInt8(ascii: "{")]

    package init() {}

    package mutating func string(_ name: String, _ value: String) {
        member(name)
        JSON.appendString(value, to: &bytes)
    }

    /// The member only when `value` is present.
    package mutating func string(_ name: String, _ value: String?) {
        if let value { string(name, value) }
    }

    /// The member, `null` when `value` is absent.
    package mutating func nullable(_ name: String, _ value: String?) {
        guard let value else { return raw(name, Array("null".utf8)) }
        string(name, value)
    }

    /// The member, `null` when `value` is absent.
    package mutating func nullable(_ name: String, _ value: Int?) {
        guard let value else { return raw(name, Array("null".utf8)) }
        integer(name, Int64(value))
    }

    package mutating func bool(_ name: String, _ value: Bool) {
        raw(name, Array((value ? "true" : "false").utf8))
    }

    package mutating func integer(_ name: String, _ value: Int64) {
        member(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    package mutating func strings(_ name: String, _ values: [String]) {
        member(name)
        bytes.append(UInt8(ascii: "["))
        for (position, value) in values.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            JSON.appendString(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// An array of values that are already JSON text (nested objects).
    package mutating func array(_ name: String, _ elements: [[UInt8]]) {
        member(name)
        bytes.append(UInt8(ascii: "["))
        for (position, element) in elements.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += element
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A member whose value is already JSON text (a nested object or array).
    package mutating func raw(_ name: String, _ json: [UInt8]) {
        member(name)
        bytes.append(contentsOf: json)
    }

    /// The object's text, closed.
    package func finished() -> [UInt8] { bytes + [UInt8(ascii: "}")] }

    private mutating func member(_ name: String) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        JSON.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }
}
