import Testing

@testable import GatewayCore

@Suite("Config tokenizer")
struct ConfigTokenizerTests {
    private func tokens(_ text: String) throws -> [ConfigToken] {
        try ConfigTokenizer.tokenize(Array(text.utf8), file: "f").tokens
    }

    private func at(_ line: Int, _ column: Int) -> GatewayCore.SourceLocation {
        GatewayCore.SourceLocation(file: "f", line: line, column: column)
    }

    @Test func wordsStringsPunctuationAndPositions() throws {
        let result = try tokens("listen 1.2.3.4:80;\nroute /x {\n\trespond 200 \"a \\\"b\\\" \\\\ c\"; # comment ; {\n}")
        #expect(result == [
            ConfigToken(kind: .word, text: "listen", location: at(1, 1)),
            ConfigToken(kind: .word, text: "1.2.3.4:80", location: at(1, 8)),
            ConfigToken(kind: .semicolon, text: ";", location: at(1, 18)),
            ConfigToken(kind: .word, text: "route", location: at(2, 1)),
            ConfigToken(kind: .word, text: "/x", location: at(2, 7)),
            ConfigToken(kind: .openBrace, text: "{", location: at(2, 10)),
            ConfigToken(kind: .word, text: "respond", location: at(3, 2)),
            ConfigToken(kind: .word, text: "200", location: at(3, 10)),
            ConfigToken(kind: .string, text: "a \"b\" \\ c", location: at(3, 14)),
            ConfigToken(kind: .semicolon, text: ";", location: at(3, 28)),
            ConfigToken(kind: .closeBrace, text: "}", location: at(4, 1)),
        ])
    }

    @Test func hashInsideAWordOrStringIsNotAComment() throws {
        let result = try tokens("a#b \"#c\";#d\n")
        #expect(result.map(\.text) == ["a#b", "#c", ";"])
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let result = try tokens("respond \"héllo\" x;")
        #expect(result[1].text == "héllo")
        #expect(result[2].location == at(1, 17))
    }

    @Test func endLocationAndCRLFAndByteOrderMark() throws {
        let (result, end) = try ConfigTokenizer.tokenize([0xEF, 0xBB, 0xBF] + Array("a;\r\nb;".utf8), file: "f")
        #expect(result.map(\.location) == [at(1, 1), at(1, 2), at(2, 1), at(2, 2)])
        #expect(end == at(2, 3))
    }

    @Test(arguments: [
        ("route /users/{id} {", ["route", "/users/{id}", "{"]),
        ("route /{a}/{b}/x{", ["route", "/{a}/{b}/x", "{"]),
        ("match_claim org_id {org};", ["match_claim", "org_id", "{org}", ";"]),
        ("limits {}", ["limits", "{", "}"]),
        ("limits{}", ["limits", "{", "}"]),
        ("route / {deny;}", ["route", "/", "{", "deny", ";", "}"]),
        ("route /a{ deny; }", ["route", "/a", "{", "deny", ";", "}"]),
        ("x {a b}", ["x", "{", "a", "b", "}"]),
        ("x \"s\"{a}", ["x", "s", "{a}"]),
    ])
    func bracesInsideWordsAreRouteParameters(text: String, expected: [String]) throws {
        #expect(try tokens(text).map(\.text) == expected)
    }

    @Test func parameterBracesKeepColumns() throws {
        let result = try tokens("route /u/{id} {\n}")
        #expect(result.map(\.kind) == [.word, .word, .openBrace, .closeBrace])
        #expect(result[2].location == at(1, 15))
    }

    @Test func emptyStringAndMultiLineString() throws {
        let result = try tokens("x \"\" \"a\nb\";")
        #expect(result.map(\.text) == ["x", "", "a\nb", ";"])
        #expect(result[3].location == at(2, 3))
    }

    @Test(arguments: [
        ErrorCase("x \"abc", at: "1:3", "unterminated string"),
        ErrorCase("x \"ab\\", at: "1:3", "unterminated string"),
        ErrorCase("x \"a\\nb\";", at: "1:5", "invalid escape \"\\n\" in string; only \\\" and \\\\ are allowed"),
        ErrorCase("x\n  \"\\'\";", at: "2:4", "invalid escape"),
        ErrorCase("x a\"b\";", at: "1:4", "unexpected '\"' inside a word"),
        ErrorCase("x \"a\"b;", at: "1:6", "expected whitespace, \";\", \"{\" or \"}\" after a quoted string"),
        ErrorCase("x \u{01};", at: "1:3", "unexpected control character 0x01"),
        ErrorCase("x \"\u{7F}\";", at: "1:4", "unexpected control character 0x7F"),
        ErrorCase("x\u{0B}y;", at: "1:2", "unexpected control character 0x0B"),
    ])
    func lexicalErrors(item: ErrorCase) {
        expectSingleError(item)
    }

    @Test func invalidUTF8IsRejected() {
        #expect(throws: ConfigDiagnostic(at(1, 3), "invalid UTF-8")) {
            try ConfigTokenizer.tokenize(Array("x ".utf8) + [0xC3, 0x28] + Array(";".utf8), file: "f")
        }
        #expect(throws: ConfigDiagnostic(at(2, 1), "invalid UTF-8")) {
            try ConfigTokenizer.tokenize(Array("x\n\"".utf8) + [0xFF] + Array("\";".utf8), file: "f")
        }
    }
}

@Suite("Config parser")
struct ConfigParserTests {
    private func parse(_ text: String) -> ([ConfigDirective], [ConfigDiagnostic]) {
        var parser = ConfigParser()
        let tree = parser.parse(Array(text.utf8), file: "p.conf")
        return (tree, parser.diagnostics)
    }

    private func at(_ line: Int, _ column: Int) -> GatewayCore.SourceLocation {
        GatewayCore.SourceLocation(file: "p.conf", line: line, column: column)
    }

    @Test func buildsTheTree() {
        let (tree, diagnostics) = parse("a 1 \"two\";\nb {\n  c;\n  d { }\n}\n")
        #expect(diagnostics.isEmpty)
        #expect(tree == [
            ConfigDirective(
                name: "a", location: at(1, 1),
                arguments: [
                    ConfigArgument(text: "1", location: at(1, 3)),
                    ConfigArgument(text: "two", location: at(1, 5), isQuoted: true),
                ]),
            ConfigDirective(
                name: "b", location: at(2, 1), block: [
                    ConfigDirective(name: "c", location: at(3, 3)),
                    ConfigDirective(name: "d", location: at(4, 3), block: [], blockLocation: at(4, 5)),
                ], blockLocation: at(2, 3)),
        ])
    }

    @Test(arguments: [
        ErrorCase("}", at: "1:1", "unexpected \"}\""),
        ErrorCase("workers 1;\n}", at: "2:1", "unexpected \"}\""),
        ErrorCase(";", at: "1:1", "unexpected \";\""),
        ErrorCase("limits { } ;", at: "1:12", "unexpected \";\""),
        ErrorCase("{ }", at: "1:1", "unexpected \"{\"; a block needs a directive name"),
        ErrorCase("\"listen\" 127.0.0.1:1;", at: "1:1", "expected a directive name, found a quoted string"),
        ErrorCase("listen 1.2.3.4:80", at: "1:18", "unexpected end of file; expected \";\" or \"{\" after \"listen\""),
        ErrorCase("limits {\n    max_head 1k;\n", at: "3:1", "unexpected end of file; the block opened at line 1 is not closed"),
        ErrorCase("route / { public }", at: "1:18", "unexpected \"}\"; missing \";\" after \"public\""),
        ErrorCase("include;", at: "1:1", "\"include\" takes exactly one argument"),
        ErrorCase("include a b;", at: "1:11", "\"include\" takes exactly one argument"),
        ErrorCase("include a { }", at: "1:11", "\"include\" does not take a block"),
        ErrorCase("include \"\";", at: "1:9", "\"include\" needs a file or glob"),
        ErrorCase("include missing-file.conf;", at: "1:9", "cannot read included file \"missing-file.conf\": No such file or directory"),
    ])
    func syntaxErrors(item: ErrorCase) {
        expectSingleError(item)
    }

    @Test func syntaxErrorsStopBeforeValidation() {
        // The unknown directive is not reported: a half-parsed file would mislead.
        let errors = configErrors("bogus;\nlisten 1.2.3.4:80")
        #expect(errors.map(\.description) == ["t.conf:2:18: unexpected end of file; expected \";\" or \"{\" after \"listen\""])
    }
}

@Suite("Config includes")
struct ConfigIncludeTests {
    @Test func relativeGlobIsResolvedAgainstTheIncludingFile() throws {
        let dir = TemporaryDirectory()
        dir.directory("conf.d")
        dir.file("conf.d/10-upstream.conf", "upstream agents {\n    server 127.0.0.1:9000;\n}\n")
        dir.file("conf.d/20-route.conf", "route /api/** {\n    public;\n    upstream agents;\n}\n")
        dir.file("conf.d/.hidden.conf", "this is not valid;")
        dir.file("conf.d/notes.txt", "neither is this;")
        let main = dir.file("gateway.conf", "listen 127.0.0.1:0;\ninclude conf.d/*.conf;\n")
        let config = try ConfigLoader.load(path: main, environment: [:])
        #expect(config.upstreams.map(\.name) == ["agents"])
        #expect(config.routes.map(\.pattern) == ["/api/**"])
        #expect(config.routes.first?.location == GatewayCore.SourceLocation(file: dir.path + "/conf.d/20-route.conf", line: 1, column: 1))
    }

    @Test func includeInsideABlockAndNestedRelativeIncludes() throws {
        let dir = TemporaryDirectory()
        dir.directory("a")
        dir.directory("a/b")
        dir.file("a/servers.conf", "server 127.0.0.1:1;\ninclude b/more.conf;\n")
        dir.file("a/b/more.conf", "server 127.0.0.1:2;\n")
        let main = dir.file("gateway.conf", "upstream u {\n    include a/servers.conf;\n}\n")
        let config = try ConfigLoader.load(path: main, environment: [:])
        #expect(config.upstreams.first?.servers.map(\.port) == [1, 2])
    }

    @Test func loadTextUsesTheDirectoryOfItsFileName() throws {
        let dir = TemporaryDirectory()
        dir.file("extra.conf", "workers 3;\n")
        let config = try ConfigLoader.load(text: "include extra.conf;", fileName: dir.path + "/virtual.conf", environment: [:])
        #expect(config.workers == .count(3))
    }

    @Test func globMatchingNothingIsFine() throws {
        let dir = TemporaryDirectory()
        dir.directory("conf.d")
        let main = dir.file("gateway.conf", "include conf.d/*.conf;\ninclude conf.d/?.conf;\n")
        #expect(try ConfigLoader.load(path: main, environment: [:]).routes.isEmpty)
    }

    @Test func globInAMissingDirectoryMatchesNothing() throws {
        let dir = TemporaryDirectory()
        let main = dir.file("gateway.conf", "include nodir/*.conf;\n")
        #expect(try ConfigLoader.load(path: main, environment: [:]).upstreams.isEmpty)
    }

    @Test func includingADeviceIsAnError() {
        let errors = configErrors("include /dev/null;")
        #expect(errors == [ConfigDiagnostic(
            GatewayCore.SourceLocation(file: "t.conf", line: 1, column: 9),
            "cannot read included file \"/dev/null\": not a regular file")])
    }

    @Test func oversizedFileIsAnError() {
        let dir = TemporaryDirectory()
        let big = dir.file("big.conf", String(repeating: "# padding line\n", count: 600_000))
        #expect(throws: ConfigError([ConfigDiagnostic(
            GatewayCore.SourceLocation(file: big, line: 1, column: 1), "cannot read configuration: larger than 8 MiB")])) {
            try ConfigLoader.load(path: big, environment: [:])
        }
    }

    @Test func missingPlainFileIsAnError() {
        let dir = TemporaryDirectory()
        let main = dir.file("gateway.conf", "workers 2;\n  include nope.conf;\n")
        #expect(throws: ConfigError([ConfigDiagnostic(
            GatewayCore.SourceLocation(file: main, line: 2, column: 11),
            "cannot read included file \"\(dir.path)/nope.conf\": No such file or directory")])) {
            try ConfigLoader.load(path: main, environment: [:])
        }
    }

    @Test func includingADirectoryIsAnError() {
        let dir = TemporaryDirectory()
        dir.directory("conf.d")
        let main = dir.file("gateway.conf", "include conf.d;\n")
        #expect(throws: ConfigError([ConfigDiagnostic(
            GatewayCore.SourceLocation(file: main, line: 1, column: 9),
            "cannot read included file \"\(dir.path)/conf.d\": is a directory")])) {
            try ConfigLoader.load(path: main, environment: [:])
        }
    }

    @Test func missingMainFileIsAnError() {
        #expect(throws: ConfigError([ConfigDiagnostic(
            GatewayCore.SourceLocation(file: "/nonexistent/gateway.conf", line: 1, column: 1),
            "cannot read configuration: No such file or directory")])) {
            try ConfigLoader.load(path: "/nonexistent/gateway.conf", environment: [:])
        }
    }

    @Test func cycleIsAnError() {
        let dir = TemporaryDirectory()
        let a = dir.file("a.conf", "include b.conf;\n")
        let b = dir.file("b.conf", "workers 2;\ninclude a.conf;\n")
        #expect(throws: ConfigError([ConfigDiagnostic(
            GatewayCore.SourceLocation(file: b, line: 2, column: 9),
            "include cycle: \"\(a)\" is already being included")])) {
            try ConfigLoader.load(path: a, environment: [:])
        }
    }

    @Test func selfIncludeThroughAGlobIsACycle() {
        let dir = TemporaryDirectory()
        let a = dir.file("a.conf", "include *.conf;\n")
        let errors: [ConfigDiagnostic]
        do {
            _ = try ConfigLoader.load(path: a, environment: [:])
            errors = []
        } catch {
            errors = error.diagnostics
        }
        #expect(errors.map(\.message) == ["include cycle: \"\(a)\" is already being included"])
    }

    @Test(arguments: [16, 17])
    func depthLimit(depth: Int) {
        let dir = TemporaryDirectory()
        for level in 1...depth {
            dir.file("level\(level).conf", level == depth ? "workers 4;\n" : "include level\(level + 1).conf;\n")
        }
        let main = dir.file("gateway.conf", "include level1.conf;\n")
        do {
            let config = try ConfigLoader.load(path: main, environment: [:])
            #expect(depth == 16)
            #expect(config.workers == .count(4))
        } catch {
            #expect(depth == 17)
            #expect(error.diagnostics == [ConfigDiagnostic(
                GatewayCore.SourceLocation(file: dir.path + "/level16.conf", line: 1, column: 9),
                "includes nested more than 16 deep")])
        }
    }

    @Test func errorsInIncludedFilesNameThatFileAndAreSorted() {
        let dir = TemporaryDirectory()
        dir.file("b.conf", "\n  bogus;\n")
        let main = dir.file("a.conf", "include b.conf;\nworkers 0;\n")
        do {
            _ = try ConfigLoader.load(path: main, environment: [:])
            Issue.record("expected errors")
        } catch {
            #expect(error.description == """
                \(dir.path)/a.conf:2:9: 0 is out of range 1...256
                \(dir.path)/b.conf:2:3: unknown directive "bogus"
                """)
        }
    }

    @Test func syntaxErrorInAnIncludedFile() {
        let dir = TemporaryDirectory()
        dir.file("b.conf", "workers \"2;\n")
        let main = dir.file("a.conf", "include b.conf;\n")
        #expect(throws: ConfigError([ConfigDiagnostic(
            GatewayCore.SourceLocation(file: dir.path + "/b.conf", line: 1, column: 9), "unterminated string")])) {
            try ConfigLoader.load(path: main, environment: [:])
        }
    }
}
