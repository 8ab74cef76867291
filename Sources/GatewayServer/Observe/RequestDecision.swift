/// How a request ended, for the access log's `decision` and the request counter's label.
enum RequestDecision: Int, CaseIterable {
    /// Allowed: forwarded, tunnelled, or answered by the gateway itself with a success.
    case allow
    /// Refused by the gateway (an error status it chose).
    case deny
    /// Allowed, but the upstream failed it (502, 504).
    case error

    var name: String {
        switch self {
        case .allow: "allow"
        case .deny: "deny"
        case .error: "error"
        }
    }
}

/// Why forwarding to an upstream server failed: the label of the upstream-error counter.
enum UpstreamErrorKind: Int, CaseIterable {
    case connectFailed, connectTimeout, readTimeout, sendTimeout, reset, invalidResponse, aborted

    var name: String {
        switch self {
        case .connectFailed: "connect_failed"
        case .connectTimeout: "connect_timeout"
        case .readTimeout: "read_timeout"
        case .sendTimeout: "send_timeout"
        case .reset: "reset"
        case .invalidResponse: "invalid_response"
        case .aborted: "aborted"
        }
    }
}
