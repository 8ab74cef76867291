private import COpenSSL

/// A TLS setup failure (a certificate or key that does not load, a CA file that cannot be
/// read), with OpenSSL's reason text. Never carries key bytes.
package struct TLSError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }

    /// `message` followed by the reasons in OpenSSL's error queue of this thread (which is
    /// emptied, so a later call starts clean).
    static func fromQueue(_ message: String) -> TLSError {
        TLSError(message + OpenSSLErrors.drain())
    }
}

/// Reading (and clearing) this thread's OpenSSL error queue.
enum OpenSSLErrors {
    /// ": reason; reason" for every queued error, or "" when the queue is empty.
    static func drain() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if let text = ERR_reason_error_string(code) {
                reasons.append(String(cString: text))
            } else {
                reasons.append("error \(code)")
            }
        }
        return reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")
    }
}
