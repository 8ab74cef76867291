/// One argument of a directive as written, with its position for diagnostics.
package struct ConfigArgument: Sendable, Equatable {
    /// The text, unescaped when it was quoted.
    package var text: String
    /// Where the argument starts (the opening quote for a string).
    package var location: SourceLocation
    /// True when written as a double-quoted string.
    package var isQuoted: Bool

    package init(text: String, location: SourceLocation, isQuoted: Bool = false) {
        self.text = text
        self.location = location
        self.isQuoted = isQuoted
    }
}

/// A node of the untyped tree the parser builds (`name arg...;` or `name arg... { ... }`),
/// with `include`s already expanded. The validator gives it meaning; keeping the two apart
/// means syntax errors and semantic errors are reported by separate, simple code.
package struct ConfigDirective: Sendable, Equatable {
    /// The directive name (always a bare word).
    package var name: String
    /// Where the name stands.
    package var location: SourceLocation
    package var arguments: [ConfigArgument]
    /// The children of `{ ... }`; nil when the directive ended with `;`.
    package var block: [ConfigDirective]?
    /// Where the `{` stands; nil when there is no block.
    package var blockLocation: SourceLocation?

    package init(
        name: String, location: SourceLocation, arguments: [ConfigArgument] = [],
        block: [ConfigDirective]? = nil, blockLocation: SourceLocation? = nil
    ) {
        self.name = name
        self.location = location
        self.arguments = arguments
        self.block = block
        self.blockLocation = blockLocation
    }
}
