/// A position in a configuration file (1-based line and column).
package struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    package var file: String
    package var line: Int
    package var column: Int
    package init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
    package var description: String { "\(file):\(line):\(column)" }
}

/// One problem (or warning) in a configuration, printed as `file:line:col: message`.
package struct ConfigDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    package var location: SourceLocation
    package var message: String
    package init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }
    package var description: String { "\(location): \(message)" }
}

/// Every problem found in a configuration (validation collects them all, SPEC §3).
package struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    package var diagnostics: [ConfigDiagnostic]
    package init(_ diagnostics: [ConfigDiagnostic]) { self.diagnostics = diagnostics }
    package var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
