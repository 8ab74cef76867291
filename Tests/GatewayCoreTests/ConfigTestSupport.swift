import Glibc
import Testing

@testable import GatewayCore

/// The diagnostics `ConfigLoader` throws for `text` (file name `t.conf`); empty when it loads.
func configErrors(_ text: String, environment: [String: String] = [:]) -> [ConfigDiagnostic] {
    do {
        _ = try ConfigLoader.load(text: text, fileName: "t.conf", environment: environment)
        return []
    } catch {
        return error.diagnostics
    }
}

/// `line:col` of a diagnostic, for compact assertions.
func position(_ diagnostic: ConfigDiagnostic) -> String {
    "\(diagnostic.location.line):\(diagnostic.location.column)"
}

/// Loads `text` that must be valid.
func loadConfig(_ text: String, environment: [String: String] = [:]) throws -> GatewayConfig {
    try ConfigLoader.load(text: text, fileName: "t.conf", environment: environment)
}

/// A configuration that must fail with exactly one error at `at` whose message contains `message`.
struct ErrorCase: Sendable, CustomTestStringConvertible {
    var text: String
    var at: String
    var message: String
    init(_ text: String, at: String, _ message: String) {
        self.text = text
        self.at = at
        self.message = message
    }
    var testDescription: String { "\(message) @\(at)" }
}

/// Asserts `text` fails with exactly one diagnostic at `at` containing `message`.
func expectSingleError(_ item: ErrorCase, environment: [String: String] = [:], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let errors = configErrors(item.text, environment: environment)
    #expect(errors.count == 1, "expected one error, got \(errors)", sourceLocation: sourceLocation)
    guard let first = errors.first else { return }
    #expect(first.location.file == "t.conf", sourceLocation: sourceLocation)
    #expect(position(first) == item.at, "\(first)", sourceLocation: sourceLocation)
    #expect(first.message.contains(item.message), "\(first)", sourceLocation: sourceLocation)
}

/// A fresh directory under /tmp, removed (with the files written through it) on deinit.
final class TemporaryDirectory {
    let path: String
    private var created: [(path: String, isDirectory: Bool)] = []

    init() {
        var template = Array("/tmp/gateway-config-test-XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(result != nil, "mkdtemp failed")
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Creates a subdirectory (relative path) and returns its absolute path.
    @discardableResult
    func directory(_ name: String) -> String {
        let full = path + "/" + name
        precondition(mkdir(full, 0o755) == 0, "mkdir \(full) failed")
        created.append((full, true))
        return full
    }

    /// Writes `text` to a file (relative path) and returns its absolute path.
    @discardableResult
    func file(_ name: String, _ text: String) -> String {
        let full = path + "/" + name
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "open \(full) failed")
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        precondition(written == bytes.count)
        close(fd)
        created.append((full, false))
        return full
    }

    deinit {
        for entry in created.reversed() {
            if entry.isDirectory { rmdir(entry.path) } else { unlink(entry.path) }
        }
        rmdir(path)
    }
}
