/// Reads a configuration file (following `include`s), validates it, and returns the snapshot
/// or every problem found. Side-effect free apart from reading files and the environment.
package enum ConfigLoader {
    /// Loads and validates the file at `path`. `environment` resolves `env:NAME` secrets.
    /// - Throws: `ConfigError` listing every problem as `file:line:col: message`.
    package static func load(path: String, environment: [String: String]) throws(ConfigError) -> GatewayConfig {
        fatalError("unimplemented")
    }

    /// Same as `load`, from text already in memory (`fileName` is used in diagnostics and as
    /// the base for relative `include`s: its directory).
    package static func load(text: String, fileName: String, environment: [String: String]) throws(ConfigError) -> GatewayConfig {
        fatalError("unimplemented")
    }
}
