/// The two text formats a Prometheus scrape can ask for.
package enum MetricsFormat: Sendable, Equatable {
    /// The classic text format, version 0.0.4 (what every Prometheus understands).
    case prometheus
    /// OpenMetrics 1.0.0: asked for with `Accept: application/openmetrics-text`.
    case openMetrics

    /// OpenMetrics when the `Accept` value names it (as Prometheus's own does, preferring it),
    /// else the classic format.
    package init(accept: some Collection<UInt8>) {
        let wanted = Array("application/openmetrics-text".utf8)
        let lowered = accept.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        let found = lowered.count >= wanted.count && (0...(lowered.count - wanted.count)).contains { start in
            lowered[start..<start + wanted.count].elementsEqual(wanted)
        }
        self = found ? .openMetrics : .prometheus
    }

    package var contentType: StaticString {
        switch self {
        case .prometheus: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }
}

/// What a metric family is (its `# TYPE`).
package enum MetricType: Sendable {
    case counter, gauge, histogram
    /// A constant 1 whose labels carry the information (build version): an OpenMetrics
    /// `info`, a gauge in the classic format.
    case info
}

/// Renders metric families in the text exposition format (Prometheus 0.0.4 or OpenMetrics
/// 1.0.0). The caller names each family once, then writes its samples; names and label names
/// are the gateway's own constants, label values are escaped here. Writes bytes (a scrape of a
/// thousand routes is some 20,000 lines), and a histogram's labels are rendered once for all
/// of its lines.
package struct MetricsExposition {
    package let format: MetricsFormat
    private var out: [UInt8] = []
    private var family = ""
    private var type = MetricType.gauge

    package init(format: MetricsFormat) {
        self.format = format
        out.reserveCapacity(64 * 1024)
    }

    /// Starts a family. - Parameter name: without the `_total` / `_info` suffix of its samples.
    package mutating func family(_ name: String, _ type: MetricType, help: String) {
        family = name
        self.type = type
        let typeName: String
        let exposedName: String
        switch (type, format) {
        case (.counter, .prometheus): (typeName, exposedName) = ("counter", name + "_total")
        case (.counter, .openMetrics): (typeName, exposedName) = ("counter", name)
        case (.gauge, _): (typeName, exposedName) = ("gauge", name)
        case (.histogram, _): (typeName, exposedName) = ("histogram", name)
        case (.info, .prometheus): (typeName, exposedName) = ("gauge", name + "_info")
        case (.info, .openMetrics): (typeName, exposedName) = ("info", name)
        }
        out += "# HELP \(exposedName) \(help)\n# TYPE \(exposedName) \(typeName)\n".utf8
    }

    /// One sample of the current counter, gauge or info family.
    package mutating func sample(_ labels: KeyValuePairs<String, String> = [:], _ value: UInt64) {
        sample(labels, value: String(value))
    }

    /// One sample with a fractional value (seconds, bytes from /proc).
    package mutating func sample(_ labels: KeyValuePairs<String, String> = [:], fraction value: Double) {
        sample(labels, value: Self.render(value))
    }

    private mutating func sample(_ labels: KeyValuePairs<String, String>, value: String) {
        let suffix: String
        switch type {
        case .counter: suffix = "_total"
        case .info: suffix = "_info"
        case .gauge, .histogram: suffix = ""
        }
        out += family.utf8
        out += suffix.utf8
        if !labels.isEmpty {
            out.append(UInt8(ascii: "{"))
            appendLabels(labels)
            out.append(UInt8(ascii: "}"))
        }
        appendValue(value)
    }

    /// One histogram of the current family: `counts[i]` observations fell in bucket `i`
    /// (not cumulative; the last is above every bound), and `sum` is their total.
    /// - Parameter bounds: the buckets' upper bounds, as rendered `le` values, one fewer than `counts`.
    package mutating func histogram(
        _ labels: KeyValuePairs<String, String>, bounds: [String], counts: some Collection<UInt64>, sum: Double
    ) {
        precondition(bounds.count + 1 == counts.count)
        var rendered: [UInt8] = []
        swap(&rendered, &out)
        appendLabels(labels)
        swap(&rendered, &out)
        var cumulative: UInt64 = 0
        for (index, count) in counts.enumerated() {
            cumulative &+= count
            out += family.utf8
            out += "_bucket{".utf8
            out += rendered
            if !rendered.isEmpty { out.append(UInt8(ascii: ",")) }
            out += "le=\"".utf8
            out += (index < bounds.count ? bounds[index] : "+Inf").utf8
            out += "\"}".utf8
            appendValue(String(cumulative))
        }
        for (suffix, value) in [("_sum", Self.render(sum)), ("_count", String(cumulative))] {
            out += family.utf8
            out += suffix.utf8
            if !rendered.isEmpty {
                out.append(UInt8(ascii: "{"))
                out += rendered
                out.append(UInt8(ascii: "}"))
            }
            appendValue(value)
        }
    }

    /// The finished document (OpenMetrics ends with `# EOF`).
    package mutating func finish() -> [UInt8] {
        if format == .openMetrics { out += "# EOF\n".utf8 }
        return out
    }

    /// `name="value",...` with the values escaped.
    private mutating func appendLabels(_ labels: KeyValuePairs<String, String>) {
        var first = true
        for (key, value) in labels {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out += key.utf8
            out += "=\"".utf8
            Self.appendEscaped(value, to: &out)
            out.append(UInt8(ascii: "\""))
        }
    }

    private mutating func appendValue(_ value: String) {
        out.append(UInt8(ascii: " "))
        out += value.utf8
        out.append(UInt8(ascii: "\n"))
    }

    /// A label value with `\`, `"` and newlines escaped, as both formats require.
    static func appendEscaped(_ value: String, to out: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): out += "\\\\".utf8
            case UInt8(ascii: "\""): out += "\\\"".utf8
            case UInt8(ascii: "\n"): out += "\\n".utf8
            default: out.append(byte)
            }
        }
    }

    /// A float both formats parse: integers without a fraction, others in Swift's shortest
    /// round-trip form (which may use an exponent, as Go's parser accepts).
    static func render(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
