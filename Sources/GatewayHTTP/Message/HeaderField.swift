/// Header names the gateway acts on, classified once while parsing (ASCII case-insensitive).
///
/// `identity` is every name starting with `X-Auth-` where `_` also counts as `-`
/// (`X_Auth_User_Id`), because CGI/WSGI upstreams fold both spellings into one variable; the
/// `X-Forwarded-*` family and `forwardingHint` names are matched the same way, their `_`
/// spellings as `underscoreSpelling`.
package enum HeaderName: UInt8, Sendable {
    case other
    case host, contentLength, transferEncoding, connection, keepAlive, proxyConnection
    case te, trailer, upgrade, expect, proxyAuthorization, proxyAuthenticate
    case authorization, xForwardedFor, xForwardedProto, xForwardedHost, xRequestId
    case identity
    case http2Settings
    /// `Forwarded` (RFC 7239).
    case forwarded
    /// Another header a proxy writes to describe the original request, which upstreams believe:
    /// `X-Real-IP`, `X-Client-IP`, `X-Forwarded-Port`, `X-Forwarded-Prefix`, `X-Original-URL`,
    /// `X-Rewrite-URL`. Only a trusted proxy may send them (SPEC §8).
    case forwardingHint
    /// One of the proxy headers above (or `X-Request-Id`) spelled with `_` for `-`
    /// (`X_Forwarded_For`): read as the real one by CGI/WSGI upstreams, written by no proxy.
    /// Never believed, never forwarded, whoever sends it.
    case underscoreSpelling
    /// `X-HTTP-Method-Override`, `X-HTTP-Method`, `X-Method-Override`: frameworks that honour
    /// them run another method than the request-line's, the one routes are chosen by.
    case methodOverride
}

/// One header field as offsets into the buffer the head was parsed from.
///
/// Offsets are relative to the first byte handed to the parser; the value has its leading and
/// trailing whitespace (OWS) trimmed already.
package struct HeaderField: Sendable, Equatable {
    package var name: HeaderName
    package var nameStart: Int
    package var nameCount: Int
    package var valueStart: Int
    package var valueCount: Int

    package init(name: HeaderName, nameStart: Int, nameCount: Int, valueStart: Int, valueCount: Int) {
        self.name = name
        self.nameStart = nameStart
        self.nameCount = nameCount
        self.valueStart = valueStart
        self.valueCount = valueCount
    }
}

/// A span of a parsed buffer: `start` is relative to the first byte handed to the parser.
package struct ByteRange: Sendable, Equatable {
    package var start: Int
    package var count: Int
    package init(start: Int, count: Int) {
        self.start = start
        self.count = count
    }
    package static let empty = ByteRange(start: 0, count: 0)
}

extension Array where Element == UInt8 {
    /// Appends `bytes[range]`.
    @inline(__always)
    package mutating func append(_ bytes: UnsafeRawBufferPointer, _ range: ByteRange) {
        append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[range.start..<range.start + range.count]))
    }
}
