/// Minimal JSON text helpers for log lines and error bodies (no Foundation on the request path).
package enum JSON {
    /// Appends `value` as a JSON string literal (quoted, escaped) to `out`.
    package static func appendString(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// Appends `value` as a JSON string literal to a byte buffer.
    package static func appendString(_ value: String, to out: inout [UInt8]) {
        var text = ""
        appendString(value, to: &text)
        out.append(contentsOf: text.utf8)
    }
}
