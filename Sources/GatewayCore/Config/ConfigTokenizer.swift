/// One lexical unit of a configuration file, with the position of its first character.
///
/// Tokens are the only place the loader looks at raw bytes; everything after works on
/// these, so every diagnostic can point at `file:line:col`.
package struct ConfigToken: Sendable, Equatable {
    /// What the token is; `word` and `string` carry text, the punctuation kinds do not.
    package enum Kind: Sendable, Equatable {
        /// A bare word: a run of bytes up to whitespace, `;`, `{` or `}`.
        case word
        /// A double-quoted string; `text` holds it with `\"` and `\\` unescaped.
        case string
        /// `;` — ends a simple directive.
        case semicolon
        /// `{` — opens a block.
        case openBrace
        /// `}` — closes a block.
        case closeBrace
    }

    package var kind: Kind
    /// The word or the unescaped string; `;`, `{` or `}` for punctuation.
    package var text: String
    /// Where the token starts (the opening quote for a string).
    package var location: SourceLocation

    package init(kind: Kind, text: String, location: SourceLocation) {
        self.kind = kind
        self.text = text
        self.location = location
    }
}

/// Splits configuration bytes into tokens: words, double-quoted strings (escapes `\"` and
/// `\\` only), `;`, `{`, `}`; `#` starts a comment to the end of the line when it begins a
/// token. Lines and columns are 1-based; columns count characters, not bytes.
///
/// Route patterns and claim bindings contain `{name}` (`route /users/{id} {`,
/// `match_claim org_id {org};`), so a `{` directly followed by at least one word character
/// and a `}` (no whitespace, `;`, quote or brace in between) is part of a word, not a block.
///
/// Strict by design (STYLE §7): control characters, a quote inside a word, an unknown escape,
/// an unterminated string or invalid UTF-8 are errors, never guessed around.
package enum ConfigTokenizer {
    /// The tokens of `bytes` and the position just after the last byte (where an
    /// "unexpected end of file" is reported).
    /// - Throws: the first lexical error, located at the offending character.
    package static func tokenize(
        _ bytes: [UInt8], file: String
    ) throws(ConfigDiagnostic) -> (tokens: [ConfigToken], end: SourceLocation) {
        var scanner = Scanner(bytes: bytes, file: file)
        var tokens: [ConfigToken] = []
        // A UTF-8 byte-order mark some editors write is not part of the text.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { scanner.index = 3 }
        while let byte = scanner.peek {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                scanner.advance()
            case UInt8(ascii: "#"):
                while let b = scanner.peek, b != UInt8(ascii: "\n") { scanner.advance() }
            case UInt8(ascii: ";"):
                tokens.append(ConfigToken(kind: .semicolon, text: ";", location: scanner.location))
                scanner.advance()
            case UInt8(ascii: "{") where scanner.parameterEnd(from: scanner.index) == nil:
                tokens.append(ConfigToken(kind: .openBrace, text: "{", location: scanner.location))
                scanner.advance()
            case UInt8(ascii: "}"):
                tokens.append(ConfigToken(kind: .closeBrace, text: "}", location: scanner.location))
                scanner.advance()
            case UInt8(ascii: "\""):
                tokens.append(try scanner.string())
            default:
                tokens.append(try scanner.word())
            }
        }
        return (tokens, scanner.location)
    }
}

/// Cursor over the bytes that tracks line and column as it moves.
private struct Scanner {
    let bytes: [UInt8]
    let file: String
    var index = 0
    var line = 1
    var column = 1

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
    var location: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    mutating func advance() {
        let byte = bytes[index]
        index += 1
        if byte == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            // Continuation bytes of a UTF-8 sequence do not start a new column.
            column += 1
        }
    }

    static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }

    static func isSeparator(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"),
            UInt8(ascii: ";"), UInt8(ascii: "{"), UInt8(ascii: "}"):
            true
        default:
            false
        }
    }

    func controlError(_ byte: UInt8) -> ConfigDiagnostic {
        let hex = String(byte, radix: 16, uppercase: true)
        return ConfigDiagnostic(location, "unexpected control character 0x\(hex.count == 1 ? "0" + hex : hex)")
    }

    /// The index of the `}` closing a `{name}` group that starts at `start`; nil when the
    /// `{` there is punctuation (a block opener).
    func parameterEnd(from start: Int) -> Int? {
        var i = start + 1
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "}") { return i > start + 1 ? i : nil }
            if Scanner.isSeparator(byte) || Scanner.isControl(byte) || byte == UInt8(ascii: "\"") { return nil }
            i += 1
        }
        return nil
    }

    /// A word is one contiguous run of the bytes (its `{name}` groups included), so its text
    /// is made from that slice once, not collected byte by byte.
    mutating func word() throws(ConfigDiagnostic) -> ConfigToken {
        let start = location
        let first = index
        while let byte = peek {
            if byte == UInt8(ascii: "{"), let end = parameterEnd(from: index) {
                while index <= end { advance() }
                continue
            }
            if Scanner.isSeparator(byte) { break }
            if byte == UInt8(ascii: "\"") {
                throw ConfigDiagnostic(location, "unexpected '\"' inside a word; quote the whole argument")
            }
            if Scanner.isControl(byte) { throw controlError(byte) }
            advance()
        }
        guard let string = String(validating: bytes[first..<index], as: UTF8.self) else {
            throw ConfigDiagnostic(start, "invalid UTF-8")
        }
        return ConfigToken(kind: .word, text: string, location: start)
    }

    mutating func string() throws(ConfigDiagnostic) -> ConfigToken {
        let start = location
        advance()  // opening quote
        var text: [UInt8] = []
        while true {
            guard let byte = peek else { throw ConfigDiagnostic(start, "unterminated string") }
            if byte == UInt8(ascii: "\"") {
                advance()
                break
            }
            if byte == UInt8(ascii: "\\") {
                let escape = location
                advance()
                guard let next = peek else { throw ConfigDiagnostic(start, "unterminated string") }
                guard next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") else {
                    let shown = Scanner.isControl(next) || next >= 0x80 ? "" : String(UnicodeScalar(next))
                    throw ConfigDiagnostic(escape, "invalid escape \"\\\(shown)\" in string; only \\\" and \\\\ are allowed")
                }
                text.append(next)
                advance()
                continue
            }
            // Strings may span lines (a multi-line `respond` body); other control bytes are typos.
            if Scanner.isControl(byte), byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\t"), byte != UInt8(ascii: "\r") {
                throw controlError(byte)
            }
            text.append(byte)
            advance()
        }
        if let next = peek, !Scanner.isSeparator(next) {
            throw ConfigDiagnostic(location, "expected whitespace, \";\", \"{\" or \"}\" after a quoted string")
        }
        guard let string = String(validating: text, as: UTF8.self) else {
            throw ConfigDiagnostic(start, "invalid UTF-8")
        }
        return ConfigToken(kind: .string, text: string, location: start)
    }
}
