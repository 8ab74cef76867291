package import GatewayHTTP

/// The request a proxy asks the decision endpoint about (SPEC §9), read from the headers the
/// proxy sets: `X-Original-URI` + `X-Original-Method` (nginx `auth_request`) or
/// `X-Forwarded-Uri` + `X-Forwarded-Method` (Traefik, Caddy `forward_auth`).
///
/// Pure and allocation-free: every part is a range into the bytes the head was parsed from.
/// The caller decides whether the peer may describe a request at all (`trust_proxies`); this
/// type only reads the description, and refuses one that is missing or ambiguous.
package struct OriginalRequest: Sendable, Equatable {
    /// Which family of headers described the request.
    package enum Style: Sendable, Equatable {
        /// `X-Original-URI`: nginx, which treats any status but 2xx/401/403 as an error.
        case nginx
        /// `X-Forwarded-Uri`: Traefik and Caddy forward auth.
        case forwarded

        /// The status a refusal is answered with at the decision endpoint: nginx treats anything
        /// but 2xx/401/403 from its auth subrequest as an error (a 500 to the client), so a rate
        /// limit becomes 403 for it; Traefik and Caddy pass a real 429 on.
        package func status(for error: GatewayError) -> Int {
            if case .rateLimited = error, self == .nginx { return 403 }
            return error.status
        }
    }

    package var style: Style
    package var method: HTTPMethod
    /// The original path, as sent (not normalized yet); never empty.
    package var path: ByteRange
    /// The original query without its `?`; nil when there is none.
    package var query: ByteRange?

    package init(style: Style, method: HTTPMethod, path: ByteRange, query: ByteRange?) {
        self.style = style
        self.method = method
        self.path = path
        self.query = query
    }

    /// Why no original request could be read. Every case is a denial (fail closed).
    package enum Failure: Error, Sendable, Equatable {
        /// Neither `X-Original-URI` nor `X-Forwarded-Uri`.
        case missingURI
        /// A URI without the method header of its family.
        case missingMethod
        /// A header of the description given twice, or both families present: a client may
        /// have added one the proxy did not overwrite, so neither is believed.
        case ambiguous
        /// The method is not an HTTP token.
        case badMethod
        /// The URI is not origin-form (`/path?query`) or absolute-form (`http://host/path`).
        case badTarget

        /// Stable log reason.
        package var reason: String {
            switch self {
            case .missingURI: "decision_no_original_uri"
            case .missingMethod: "decision_no_original_method"
            case .ambiguous: "decision_ambiguous_original"
            case .badMethod: "decision_bad_original_method"
            case .badTarget: "decision_bad_original_uri"
            }
        }
    }

    /// Reads the original request from `headers`.
    /// - Returns: the request, or why there is none.
    package static func read(_ headers: [HeaderField], _ bytes: UnsafeRawBufferPointer) -> Result<OriginalRequest, Failure> {
        var originalURI: HeaderField? = nil
        var originalMethod: HeaderField? = nil
        var forwardedURI: HeaderField? = nil
        var forwardedMethod: HeaderField? = nil
        for field in headers where field.name == .other {
            if HTTPBytes.equalsLowercase(bytes, field.nameStart, field.nameCount, "x-original-uri") {
                guard originalURI == nil else { return .failure(.ambiguous) }
                originalURI = field
            } else if HTTPBytes.equalsLowercase(bytes, field.nameStart, field.nameCount, "x-forwarded-uri") {
                guard forwardedURI == nil else { return .failure(.ambiguous) }
                forwardedURI = field
            } else if HTTPBytes.equalsLowercase(bytes, field.nameStart, field.nameCount, "x-original-method") {
                guard originalMethod == nil else { return .failure(.ambiguous) }
                originalMethod = field
            } else if HTTPBytes.equalsLowercase(bytes, field.nameStart, field.nameCount, "x-forwarded-method") {
                guard forwardedMethod == nil else { return .failure(.ambiguous) }
                forwardedMethod = field
            }
        }
        let nginx = originalURI != nil || originalMethod != nil
        let forwarded = forwardedURI != nil || forwardedMethod != nil
        if nginx && forwarded { return .failure(.ambiguous) }
        guard let uri = originalURI ?? forwardedURI else { return .failure(.missingURI) }
        guard let methodField = originalMethod ?? forwardedMethod else { return .failure(.missingMethod) }
        guard let method = Self.method(methodField, bytes) else { return .failure(.badMethod) }
        guard let (path, query) = target(ByteRange(start: uri.valueStart, count: uri.valueCount), bytes) else {
            return .failure(.badTarget)
        }
        return .success(OriginalRequest(style: originalURI != nil ? .nginx : .forwarded, method: method, path: path, query: query))
    }

    /// The method token (case-sensitive, RFC 9110 §9.1); unregistered tokens are `.other`.
    private static func method(_ field: HeaderField, _ bytes: UnsafeRawBufferPointer) -> HTTPMethod? {
        guard field.valueCount > 0 else { return nil }
        for i in field.valueStart..<field.valueStart + field.valueCount where !HTTPBytes.isTChar(bytes[i]) { return nil }
        return RequestHeadParser.classifyMethod(bytes, field.valueStart, field.valueCount)
    }

    /// Splits a request target into path and query. Origin-form, or absolute-form `http(s)://`
    /// (nginx's `$request_uri` is the target as the client wrote it); an absolute-form target
    /// with no path is `/` — reported as the `/` of nothing, an empty range the caller treats
    /// as root. A fragment (`#`) is never part of a request target: refused.
    /// - Returns: nil for any other shape.
    static func target(_ value: ByteRange, _ bytes: UnsafeRawBufferPointer) -> (path: ByteRange, query: ByteRange?)? {
        var start = value.start
        let end = value.start + value.count
        guard start < end else { return nil }
        if bytes[start] != UInt8(ascii: "/") {
            let scheme: StaticString = HTTPBytes.hasLowercasePrefix(bytes, start, end - start, "https://") ? "https://" : "http://"
            guard HTTPBytes.hasLowercasePrefix(bytes, start, end - start, scheme) else { return nil }
            start += scheme.utf8CodeUnitCount
            let authorityStart = start
            while start < end, bytes[start] != UInt8(ascii: "/"), bytes[start] != UInt8(ascii: "?") { start += 1 }
            guard start > authorityStart else { return nil }
        }
        var pathEnd = start
        while pathEnd < end, bytes[pathEnd] != UInt8(ascii: "?") {
            if bytes[pathEnd] == UInt8(ascii: "#") { return nil }
            pathEnd += 1
        }
        let path = ByteRange(start: start, count: pathEnd - start)
        guard pathEnd < end else { return (path, nil) }
        for i in pathEnd + 1..<end where bytes[i] == UInt8(ascii: "#") { return nil }
        return (path, ByteRange(start: pathEnd + 1, count: end - pathEnd - 1))
    }
}
