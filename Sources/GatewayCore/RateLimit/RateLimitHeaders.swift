import GatewaySupport

/// Renders the rate-limit response fields of the IETF httpapi draft
/// `draft-ietf-httpapi-ratelimit-headers-11` (the latest revision; earlier ones, up to -06,
/// used the separate `RateLimit-Limit`/`-Remaining`/`-Reset` fields, which are not sent).
/// Both fields are structured-field Lists (RFC 9651) of one Item whose value is the policy
/// name as an sf-string:
///
///     RateLimit-Policy: "default";q=600;w=60
///     RateLimit: "default";r=99;t=1
///
/// - `q`: the policy's `count` (quota, in requests: the default unit, so `qu` is omitted);
///   `w`: its period in seconds. The burst is not advertised (the draft has no parameter for
///   it); `r` never exceeds it.
/// - `r`: requests that could be made right now (`RateLimitDecision.remaining`).
/// - `t`: when allowed, the seconds until the bucket is full again (`resetSeconds`); on a
///   denial, the `Retry-After` value instead, because the draft (§6) says Retry-After should
///   not point earlier than the end of the effective window, and with `r=0` that window ends
///   exactly when one request is allowed again.
/// - No partition key (`pk`): it would disclose how principals are bucketed.
///
/// Values are bytes (the server appends them to the response head); the policy value is
/// rendered once per policy (`RateLimitPolicy.policyHeaderValue`). Any thread.
package enum RateLimitHeaders {
    /// The field name `RateLimit-Policy`.
    package static let policyFieldName: StaticString = "RateLimit-Policy"
    /// The field name `RateLimit`.
    package static let fieldName: StaticString = "RateLimit"

    /// Appends the `RateLimit` value for `decision` under `policy` (`"default";r=99;t=1`).
    package static func appendValue(_ decision: RateLimitDecision, policy: RateLimitPolicy, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: policy.headerName)
        bytes.append(contentsOf: ";r=".utf8)
        appendDecimal(decision.remaining, to: &bytes)
        bytes.append(contentsOf: ";t=".utf8)
        appendDecimal(decision.allowed ? decision.resetSeconds : decision.retryAfterSeconds, to: &bytes)
    }

    /// The `RateLimit` value for `decision` under `policy`, as a new array.
    package static func value(_ decision: RateLimitDecision, policy: RateLimitPolicy) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(policy.headerName.count + 24)
        appendValue(decision, policy: policy, to: &bytes)
        return bytes
    }

    /// Appends a count or a number of seconds in decimal; negative values are written as 0.
    package static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        Decimal.append(max(0, value), to: &bytes)
    }

    /// `name` as an sf-string: quoted, `"` and `\` escaped, bytes outside printable ASCII
    /// replaced by `?` (RFC 9651 §3.3.3 allows only 0x20...0x7E).
    static func quoted(_ name: String) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), byte]
            case 0x20...0x7E: bytes.append(byte)
            default: bytes.append(UInt8(ascii: "?"))
            }
        }
        bytes.append(UInt8(ascii: "\""))
        return bytes
    }

    /// `<name>;q=<limit>;w=<window>`.
    static func policyValue(name: [UInt8], limit: Int, windowSeconds: Int) -> [UInt8] {
        var bytes = name
        bytes.append(contentsOf: ";q=".utf8)
        appendDecimal(limit, to: &bytes)
        bytes.append(contentsOf: ";w=".utf8)
        appendDecimal(windowSeconds, to: &bytes)
        return bytes
    }
}
