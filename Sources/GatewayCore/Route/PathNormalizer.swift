/// Why a request path is refused before any route matching (400 `invalid_request`).
package enum PathError: Error, Sendable, Equatable {
    case notAbsolute
    case encodedSlash
    case backslash
    case nul
    case controlCharacter
    case invalidPercentEncoding
    case escapesRoot

    /// Stable log reason.
    package var reason: String { "path_\(self)" }
}

/// Path normalization (SPEC §4), applied before matching; the upstream receives the result.
package enum PathNormalizer {
    /// Normalizes the path part of a request target (no query) into `output` (cleared first).
    package static func normalize(_ path: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(PathError) {
        fatalError("unimplemented")
    }
}
