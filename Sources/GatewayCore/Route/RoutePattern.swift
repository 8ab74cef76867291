/// A compiled route pattern: literal segments, `{name}`, `*`, and a trailing `**`.
package struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    package enum Segment: Sendable, Hashable {
        case literal([UInt8])
        case parameter(String)
        case wildcard
        case catchAll
    }

    package let segments: [Segment]
    package let description: String

    /// - Throws: `RoutePatternError` with a human-readable message for the config error.
    package init(_ text: String) throws(RoutePatternError) {
        fatalError("unimplemented")
    }
}

/// A malformed route pattern; `message` is shown as `file:line:col: message`.
package struct RoutePatternError: Error, Sendable, Equatable {
    package var message: String
    package init(_ message: String) { self.message = message }
}
