/// Reads a configuration file (following `include`s), validates it, and returns the snapshot
/// or every problem found. Side-effect free apart from reading files and the environment.
///
/// Steps (STYLE §7), one file each in `Config/`:
/// - bytes → tokens with `file:line:col`: `ConfigTokenizer`
/// - tokens → untyped tree, `include`s expanded: `ConfigParser`, `ConfigDirective`
/// - argument text → typed values: `ConfigValue` (+`Address`), `Rate`, `SecretSource`
/// - tree → `GatewayConfig`, every problem collected: `ConfigValidator` (+`Sections`, +`Route`)
/// - read-only file access on Glibc: `ConfigFiles`
///
/// Syntax errors stop before validation (a half-parsed file would only produce misleading
/// follow-on errors). No Foundation, sockets or globals; route patterns are stored as text and
/// compiled by `Route/`.
package enum ConfigLoader {
    /// Loads and validates the file at `path`. `environment` resolves `env:NAME` secrets.
    /// - Throws: `ConfigError` listing every problem as `file:line:col: message`.
    package static func load(path: String, environment: [String: String]) throws(ConfigError) -> GatewayConfig {
        let bytes: [UInt8]
        do {
            bytes = try ConfigFiles.readFile(path)
        } catch {
            throw ConfigError([ConfigDiagnostic(SourceLocation(file: path, line: 1, column: 1), "cannot read configuration: \(error.message)")])
        }
        return try load(bytes: bytes, fileName: path, environment: environment)
    }

    /// Same as `load`, from text already in memory (`fileName` is used in diagnostics and as
    /// the base for relative `include`s: its directory).
    package static func load(text: String, fileName: String, environment: [String: String]) throws(ConfigError) -> GatewayConfig {
        try load(bytes: Array(text.utf8), fileName: fileName, environment: environment)
    }

    /// Same as `load(text:)`, from raw bytes (invalid UTF-8 is the tokenizer's to refuse).
    package static func load(bytes: [UInt8], fileName: String, environment: [String: String]) throws(ConfigError) -> GatewayConfig {
        var parser = ConfigParser()
        let directives = parser.parse(bytes, file: fileName)
        guard parser.diagnostics.isEmpty else { throw ConfigError(sorted(parser.diagnostics)) }

        var validator = ConfigValidator(environment: environment)
        var config = validator.validate(directives)
        guard validator.diagnostics.isEmpty else { throw ConfigError(sorted(validator.diagnostics)) }
        config.warnings = sorted(validator.warnings)
        return config
    }

    /// Diagnostics ordered by file, line and column (ties keep the order they were found in).
    static func sorted(_ diagnostics: [ConfigDiagnostic]) -> [ConfigDiagnostic] {
        diagnostics.enumerated().sorted { a, b in
            let (x, y) = (a.element.location, b.element.location)
            if x.file != y.file { return x.file < y.file }
            if x.line != y.line { return x.line < y.line }
            if x.column != y.column { return x.column < y.column }
            return a.offset < b.offset
        }.map(\.element)
    }
}
