/// A request method, classified once while parsing so routing and policy never compare strings.
///
/// Methods outside the registered set parse as `.other`; routes can only name the known ones.
package enum HTTPMethod: UInt8, Sendable, CaseIterable {
    case get, head, post, put, delete, patch, options, trace, connect, other

    /// The method's token as written on the wire; `OTHER` for `.other`.
    package var name: String {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .patch: "PATCH"
        case .options: "OPTIONS"
        case .trace: "TRACE"
        case .connect: "CONNECT"
        case .other: "OTHER"
        }
    }

    /// False for GET, HEAD and TRACE, whose content has no meaning (RFC 9110 §9.3.1, §9.3.2;
    /// §9.3.8 forbids it): the gateway does not forward such a request with a body.
    package var mayCarryContent: Bool {
        switch self {
        case .get, .head, .trace: false
        case .post, .put, .delete, .patch, .options, .connect, .other: true
        }
    }

    /// RFC 9110 §9.2.2: a request that can be repeated without changing the outcome, so a
    /// failed attempt that sent nothing may be retried on another upstream server.
    package var isIdempotent: Bool {
        switch self {
        case .get, .head, .put, .delete, .options, .trace: true
        case .post, .patch, .connect, .other: false
        }
    }

    /// Parses a method name as written in the config (`GET`, case-sensitive); nil when unknown.
    package init?(name: String) {
        guard let m = HTTPMethod.allCases.first(where: { $0 != .other && $0.name == name }) else { return nil }
        self = m
    }
}

/// A set of methods, as a route's `methods` line declares it. `GET` implies `HEAD`.
package struct MethodSet: OptionSet, Sendable, Hashable {
    package let rawValue: UInt16
    package init(rawValue: UInt16) { self.rawValue = rawValue }

    package init(_ method: HTTPMethod) { self.init(rawValue: 1 << UInt16(method.rawValue)) }

    /// Every method, including unregistered ones.
    package static let all = MethodSet(rawValue: (1 << UInt16(HTTPMethod.allCases.count)) - 1)

    /// True when `method` is in the set.
    package func contains(_ method: HTTPMethod) -> Bool { contains(MethodSet(method)) }

    /// The value of an `Allow` header for this set, in a fixed order (`GET, HEAD, POST`).
    package var allowHeaderValue: String {
        HTTPMethod.allCases.filter { $0 != .other && contains($0) }.map(\.name).joined(separator: ", ")
    }
}
