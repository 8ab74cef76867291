import GatewaySupport
import Testing

@testable import GatewayCore

@Suite("Secrets: env:, file:, literal")
struct SecretSourceTests {
    @Test(arguments: [
        ("env:GATEWAY_SECRET", SecretSource.environment("GATEWAY_SECRET")),
        ("env:_x1", SecretSource.environment("_x1")),
        ("file:/etc/gateway/key.pem", SecretSource.file("/etc/gateway/key.pem")),
        ("file:relative.key", SecretSource.file("relative.key")),
        ("hunter2", SecretSource.literal(Array("hunter2".utf8))),
        ("ENV:X", SecretSource.literal(Array("ENV:X".utf8))),
    ])
    func classifies(text: String, expected: SecretSource) throws {
        let source = try SecretSource(configText: text)
        #expect(source == expected)
        #expect(source.isLiteral == (text == "hunter2" || text == "ENV:X"))
    }

    @Test(arguments: [
        ("env:", "env: needs a variable name"),
        ("env:1ABC", "invalid environment variable name \"1ABC\""),
        ("env:A-B", "invalid environment variable name \"A-B\""),
        ("file:", "file: needs a path"),
        ("", "secret is empty"),
    ])
    func invalid(text: String, message: String) {
        #expect(throws: ConfigValueError(message)) { try SecretSource(configText: text) }
    }

    @Test func environmentVariables() throws {
        let environment = ["GW_SECRET": "s3cr3t", "GW_EMPTY": ""]
        #expect(try SecretSource.environment("GW_SECRET").resolve(environment: environment, relativeTo: "") == Array("s3cr3t".utf8))
        #expect(throws: ConfigValueError("environment variable GW_MISSING is not set")) {
            try SecretSource.environment("GW_MISSING").resolve(environment: environment, relativeTo: "")
        }
        #expect(throws: ConfigValueError("environment variable GW_EMPTY is empty")) {
            try SecretSource.environment("GW_EMPTY").resolve(environment: environment, relativeTo: "")
        }
    }

    @Test func files() throws {
        let dir = TemporaryDirectory()
        let absolute = dir.file("abs.key", "line-one\nline-two\r\n\n")
        dir.file("rel.key", "relative-secret")
        dir.file("empty.key", "\n")
        #expect(try SecretSource.file(absolute).resolve(environment: [:], relativeTo: "/nonexistent")
            == Array("line-one\nline-two".utf8))
        #expect(try SecretSource.file("rel.key").resolve(environment: [:], relativeTo: dir.path) == Array("relative-secret".utf8))
        #expect(throws: ConfigValueError("secret file \"\(dir.path)/empty.key\" is empty")) {
            try SecretSource.file("empty.key").resolve(environment: [:], relativeTo: dir.path)
        }
        #expect(throws: ConfigValueError("cannot read secret file \"\(dir.path)/missing.key\": No such file or directory")) {
            try SecretSource.file("missing.key").resolve(environment: [:], relativeTo: dir.path)
        }
        #expect(throws: ConfigValueError("cannot read secret file \"\(dir.path)\": is a directory")) {
            try SecretSource.file(dir.path).resolve(environment: [:], relativeTo: "")
        }
    }

    @Test func literalResolvesToItsBytes() throws {
        #expect(try SecretSource.literal([1, 2, 3]).resolve(environment: [:], relativeTo: "") == [1, 2, 3])
    }

    @Test func validatorWarnsOnLiteralAndReportsErrorsAtTheArgument() {
        let dir = TemporaryDirectory()
        dir.file("k", "from-file\n")
        var validator = ConfigValidator(environment: ["K": "from-env"])
        let at = GatewayCore.SourceLocation(file: dir.path + "/gateway.conf", line: 4, column: 9)
        #expect(validator.secret(ConfigArgument(text: "env:K", location: at)) == Array("from-env".utf8))
        #expect(validator.secret(ConfigArgument(text: "file:k", location: at)) == Array("from-file".utf8))
        #expect(validator.warnings.isEmpty)
        #expect(validator.secret(ConfigArgument(text: "plain", location: at)) == Array("plain".utf8))
        #expect(validator.warnings == [ConfigDiagnostic(at, "literal secret; prefer env: or file:")])
        #expect(validator.diagnostics.isEmpty)
        #expect(validator.secret(ConfigArgument(text: "env:NOPE", location: at)) == nil)
        #expect(validator.diagnostics == [ConfigDiagnostic(at, "environment variable NOPE is not set")])
        #expect(validator.diagnostics.first?.description == "\(dir.path)/gateway.conf:4:9: environment variable NOPE is not set")
    }

    @Test func keyMaterialNeverPrints() throws {
        let config = try loadConfig("jwt {\n    issuer i;\n    key k HS256 env:S;\n}\nroute / { deny; }", environment: ["S": "super-secret-key-material-0123456789"])
        let printed = "\(config) \(String(reflecting: config.jwt[0].keys[0].material))"
        #expect(!printed.contains("super-secret"))
        #expect(printed.contains("<redacted>"))
        #expect(config.jwt[0].keys[0].material.reveal { String(decoding: $0, as: UTF8.self) } == "super-secret-key-material-0123456789")
    }
}
