import Glibc

/// The few file-system operations configuration loading needs (reading a file, expanding an
/// `include` glob, resolving relative paths), on Glibc directly so the config code needs no
/// Foundation. Read-only: loading a config never writes anything.
package enum ConfigFiles {
    /// Config and secret files larger than this are refused (a config is kilobytes; a
    /// multi-megabyte "config" is a mistake such as including a log file).
    package static let maxFileBytes = 8 * 1024 * 1024

    /// Reads a whole regular file.
    /// - Throws: `ConfigValueError` whose message is the OS reason (`No such file or directory`).
    package static func readFile(_ path: String) throws(ConfigValueError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ConfigValueError(errnoText(errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ConfigValueError(errnoText(errno)) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw ConfigValueError(info.st_mode & S_IFMT == S_IFDIR ? "is a directory" : "not a regular file")
        }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ConfigValueError(errnoText(errno))
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
            if result.count > maxFileBytes { throw ConfigValueError("larger than \(maxFileBytes / (1024 * 1024)) MiB") }
        }
    }

    /// The paths matching a shell glob (`conf.d/*.conf`), sorted; empty when nothing matches
    /// (including a missing directory). Hidden files are not matched by `*`, so editor swap
    /// files stay out.
    /// - Throws: `ConfigValueError` when an existing directory cannot be read.
    package static func glob(_ pattern: String) throws(ConfigValueError) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        // A directory that does not exist simply matches nothing; one that exists but cannot
        // be read aborts, so a permission problem never silently drops configuration.
        let status = Glibc.glob(pattern, 0, { _, error in error == ENOENT || error == ENOTDIR ? 0 : 1 }, &result)
        switch status {
        case 0:
            var paths: [String] = []
            for i in 0..<Int(result.gl_pathc) {
                if let path = result.gl_pathv[i] { paths.append(String(cString: path)) }
            }
            return paths.sorted()
        case GLOB_NOMATCH:
            return []
        case GLOB_NOSPACE:
            throw ConfigValueError("out of memory expanding glob")
        default:
            throw ConfigValueError("cannot read a directory of the glob")
        }
    }

    /// True when `text` contains a glob metacharacter (`*`, `?`, `[`).
    package static func hasWildcard(_ text: String) -> Bool {
        text.utf8.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
    }

    /// `text` with glob metacharacters backslash-escaped, so a directory name is matched literally.
    package static func escapeGlob(_ text: String) -> String {
        var out = ""
        for ch in text {
            if ch == "*" || ch == "?" || ch == "[" || ch == "]" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// The directory part of `path`: `""` for a bare file name (the current directory), `/`
    /// for a file in the root.
    package static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `path` resolved against `directory` unless it is absolute.
    package static func resolve(_ path: String, relativeTo directory: String) -> String {
        if path.hasPrefix("/") || directory.isEmpty { return path }
        return directory == "/" ? "/" + path : directory + "/" + path
    }

    /// The canonical absolute path (symlinks resolved) used to detect include cycles; nil when
    /// the file does not exist.
    package static func canonical(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func errnoText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
