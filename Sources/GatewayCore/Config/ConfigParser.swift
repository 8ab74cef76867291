/// Builds the untyped directive tree from configuration text, expanding `include GLOB;`.
///
/// `include` may stand in any block; the included files' directives take its place. A
/// relative glob is resolved against the directory of the file that includes it. A glob
/// with a wildcard may match nothing (an empty `conf.d/`); a plain path must exist. Cycles
/// and nesting deeper than `maxIncludeDepth` are errors.
///
/// A syntax error stops parsing of that file only; `diagnostics` collects every error found.
package struct ConfigParser {
    /// How deep includes may nest (the main file is depth 0).
    package static let maxIncludeDepth = 16

    /// Every syntax and include error found so far.
    package private(set) var diagnostics: [ConfigDiagnostic] = []
    /// Canonical paths of the files being parsed, outermost first (cycle detection).
    private var stack: [String] = []

    package init() {}

    /// Parses the main configuration file from memory.
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - file: the name shown in diagnostics; its directory is the base of relative includes.
    /// - Returns: the top-level directives (check `diagnostics` before trusting them).
    package mutating func parse(_ bytes: [UInt8], file: String) -> [ConfigDirective] {
        stack = [ConfigFiles.canonical(file) ?? file]
        defer { stack = [] }
        return parseFile(bytes, file: file)
    }

    private mutating func parseFile(_ bytes: [UInt8], file: String) -> [ConfigDirective] {
        do {
            let (tokens, end) = try ConfigTokenizer.tokenize(bytes, file: file)
            var index = 0
            return try parseBody(tokens, &index, end: end, openedBy: nil)
        } catch {
            diagnostics.append(error)
            return []
        }
    }

    /// Directives up to the matching `}` (or the end of the file at top level).
    private mutating func parseBody(
        _ tokens: [ConfigToken], _ index: inout Int, end: SourceLocation, openedBy open: ConfigToken?
    ) throws(ConfigDiagnostic) -> [ConfigDirective] {
        var directives: [ConfigDirective] = []
        while true {
            guard index < tokens.count else {
                if let open {
                    throw ConfigDiagnostic(
                        end, "unexpected end of file; the block opened at line \(open.location.line) is not closed with \"}\"")
                }
                return directives
            }
            let token = tokens[index]
            switch token.kind {
            case .closeBrace:
                guard open != nil else { throw ConfigDiagnostic(token.location, "unexpected \"}\"") }
                index += 1
                return directives
            case .semicolon:
                throw ConfigDiagnostic(token.location, "unexpected \";\"")
            case .openBrace:
                throw ConfigDiagnostic(token.location, "unexpected \"{\"; a block needs a directive name before it")
            case .string:
                throw ConfigDiagnostic(token.location, "expected a directive name, found a quoted string")
            case .word:
                index += 1
                let directive = try parseDirective(named: token, tokens, &index, end: end)
                if directive.name == "include" {
                    directives += include(directive)
                } else {
                    directives.append(directive)
                }
            }
        }
    }

    /// The arguments and optional block after a directive name.
    private mutating func parseDirective(
        named name: ConfigToken, _ tokens: [ConfigToken], _ index: inout Int, end: SourceLocation
    ) throws(ConfigDiagnostic) -> ConfigDirective {
        var directive = ConfigDirective(name: name.text, location: name.location)
        while true {
            guard index < tokens.count else {
                throw ConfigDiagnostic(end, "unexpected end of file; expected \";\" or \"{\" after \"\(name.text)\"")
            }
            let token = tokens[index]
            index += 1
            switch token.kind {
            case .word, .string:
                directive.arguments.append(
                    ConfigArgument(text: token.text, location: token.location, isQuoted: token.kind == .string))
            case .semicolon:
                return directive
            case .openBrace:
                directive.blockLocation = token.location
                directive.block = try parseBody(tokens, &index, end: end, openedBy: token)
                return directive
            case .closeBrace:
                throw ConfigDiagnostic(token.location, "unexpected \"}\"; missing \";\" after \"\(name.text)\"")
            }
        }
    }

    /// The directives of every file an `include` names; errors go to `diagnostics`.
    private mutating func include(_ directive: ConfigDirective) -> [ConfigDirective] {
        if let brace = directive.blockLocation {
            diagnostics.append(ConfigDiagnostic(brace, "\"include\" does not take a block"))
            return []
        }
        guard directive.arguments.count == 1 else {
            let location = directive.arguments.count > 1 ? directive.arguments[1].location : directive.location
            diagnostics.append(ConfigDiagnostic(location, "\"include\" takes exactly one argument: a file or glob"))
            return []
        }
        let argument = directive.arguments[0]
        guard !argument.text.isEmpty else {
            diagnostics.append(ConfigDiagnostic(argument.location, "\"include\" needs a file or glob"))
            return []
        }
        let directory = ConfigFiles.directory(of: argument.location.file)
        var paths: [String]
        if ConfigFiles.hasWildcard(argument.text) {
            let pattern = argument.text.hasPrefix("/")
                ? argument.text
                : ConfigFiles.resolve(argument.text, relativeTo: ConfigFiles.escapeGlob(directory))
            do {
                paths = try ConfigFiles.glob(pattern)
            } catch {
                diagnostics.append(ConfigDiagnostic(argument.location, "cannot expand include \"\(argument.text)\": \(error.message)"))
                return []
            }
        } else {
            paths = [ConfigFiles.resolve(argument.text, relativeTo: directory)]
        }

        var directives: [ConfigDirective] = []
        for path in paths {
            let canonical = ConfigFiles.canonical(path) ?? path
            if stack.contains(canonical) {
                diagnostics.append(ConfigDiagnostic(argument.location, "include cycle: \"\(path)\" is already being included"))
                continue
            }
            guard stack.count <= ConfigParser.maxIncludeDepth else {
                diagnostics.append(
                    ConfigDiagnostic(argument.location, "includes nested more than \(ConfigParser.maxIncludeDepth) deep"))
                return directives
            }
            let bytes: [UInt8]
            do {
                bytes = try ConfigFiles.readFile(path)
            } catch {
                diagnostics.append(ConfigDiagnostic(argument.location, "cannot read included file \"\(path)\": \(error.message)"))
                continue
            }
            stack.append(canonical)
            directives += parseFile(bytes, file: path)
            stack.removeLast()
        }
        return directives
    }
}
