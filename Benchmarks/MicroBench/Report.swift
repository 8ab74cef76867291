import GatewaySupport

/// Formats measurements: one text line per case (`name ops/s ns/op`, plain numbers so
/// scripts can split on blanks) or one JSON document.
enum Report {
    /// `hs256_signature_only          1234567 ops/s        810.0 ns/op  <summary>`
    static func line(_ m: Measurement) -> String {
        pad(m.name, 26) + " " + pad(String(Int(m.operationsPerSecond.rounded())), 10, left: true) + " ops/s "
            + pad(fixed(m.nanosecondsPerOperation), 12, left: true) + " ns/op  " + m.summary
    }

    /// `{"seconds":1,"notes":[...],"cases":[{"name":...,"iterations":...,"seconds":...,"ops_per_sec":...,"ns_per_op":...}]}`
    static func json(_ results: [Measurement], notes: [String], seconds: Double) -> String {
        var out = #"{"seconds":\#(fixed(seconds)),"notes":["#
        for (position, note) in notes.enumerated() {
            if position > 0 { out += "," }
            JSON.appendString(note, to: &out)
        }
        out += #"],"cases":["#
        for (position, m) in results.enumerated() {
            if position > 0 { out += "," }
            out += #"{"name":"#
            JSON.appendString(m.name, to: &out)
            out += #","summary":"#
            JSON.appendString(m.summary, to: &out)
            out += #","iterations":\#(m.iterations),"seconds":\#(fixed(m.seconds, digits: 4)),"#
            out += #""ops_per_sec":\#(fixed(m.operationsPerSecond)),"ns_per_op":\#(fixed(m.nanosecondsPerOperation))}"#
        }
        return out + "]}"
    }

    /// `value` with `digits` decimals (no Foundation formatting).
    static func fixed(_ value: Double, digits: Int = 1) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        let whole = String(scaled / Int(scale))
        guard digits > 0 else { return whole }
        let fraction = String(scaled % Int(scale))
        return whole + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    private static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? fill + text : text + fill
    }
}
