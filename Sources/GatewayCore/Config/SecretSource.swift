/// Where a secret (HMAC key, client secret, registration token) comes from. SPEC §3: secrets
/// are never required inline, so the config names an environment variable or a file; a
/// literal is accepted but draws a warning from `check-config`.
package enum SecretSource: Sendable, Equatable {
    /// `env:NAME` — the value of environment variable `NAME`.
    case environment(String)
    /// `file:PATH` — the contents of a file; a relative path is resolved against the
    /// directory of the config file that names it.
    case file(String)
    /// Anything else: the argument itself is the secret.
    case literal([UInt8])

    /// The warning attached to a literal secret.
    package static let literalWarning = "literal secret; prefer env: or file:"

    /// Classifies an argument: `env:NAME`, `file:PATH`, or a literal.
    /// - Throws: `ConfigValueError` for an empty literal, a missing or invalid variable name,
    ///   or an empty path.
    package init(configText text: String) throws(ConfigValueError) {
        if text.hasPrefix("env:") {
            let name = text.dropFirst(4)
            guard SecretSource.isVariableName(name) else {
                throw ConfigValueError(
                    name.isEmpty ? "env: needs a variable name" : "invalid environment variable name \"\(name)\"")
            }
            self = .environment(String(name))
        } else if text.hasPrefix("file:") {
            let path = text.dropFirst(5)
            guard !path.isEmpty else { throw ConfigValueError("file: needs a path") }
            self = .file(String(path))
        } else {
            guard !text.isEmpty else { throw ConfigValueError("secret is empty") }
            self = .literal(Array(text.utf8))
        }
    }

    /// True for `literal`: the caller should add `literalWarning`.
    package var isLiteral: Bool {
        if case .literal = self { return true }
        return false
    }

    /// The secret's bytes. Trailing line breaks of a file are dropped (files written by
    /// `echo` or editors end with one; it is never part of the key).
    /// - Parameters:
    ///   - environment: the variables `env:` reads (injected, so tests need no real environment).
    ///   - directory: the directory of the config file naming the secret (`""` = current).
    /// - Throws: `ConfigValueError` when the variable is unset or empty, or the file is
    ///   unreadable or empty. Messages never contain secret bytes.
    package func resolve(environment: [String: String], relativeTo directory: String) throws(ConfigValueError) -> [UInt8] {
        switch self {
        case .environment(let name):
            guard let value = environment[name] else {
                throw ConfigValueError("environment variable \(name) is not set")
            }
            guard !value.isEmpty else { throw ConfigValueError("environment variable \(name) is empty") }
            return Array(value.utf8)
        case .file(let path):
            let resolved = ConfigFiles.resolve(path, relativeTo: directory)
            var bytes: [UInt8]
            do {
                bytes = try ConfigFiles.readFile(resolved)
            } catch {
                throw ConfigValueError("cannot read secret file \"\(resolved)\": \(error.message)")
            }
            while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") {
                bytes.removeLast()
            }
            guard !bytes.isEmpty else { throw ConfigValueError("secret file \"\(resolved)\" is empty") }
            return bytes
        case .literal(let bytes):
            return bytes
        }
    }

    private static func isVariableName(_ name: Substring) -> Bool {
        guard let first = name.utf8.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
        }
    }
}
