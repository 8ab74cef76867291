package import GatewayTLS

/// Bounds on one JWKS fetch (SPEC §5): a slow or hostile key server costs the fetcher thread
/// at most `connectTimeout + readTimeout` and `maxBodyBytes` of memory.
package struct JWKSFetchLimits: Sendable, Equatable {
    /// Milliseconds to establish the connection (default 2 s).
    package var connectTimeout: Int64
    /// Milliseconds from the connection to the end of the response (default 5 s).
    package var readTimeout: Int64
    /// The largest document accepted (default 1 MiB).
    package var maxBodyBytes: Int

    package init(connectTimeout: Int64 = 2_000, readTimeout: Int64 = 5_000, maxBodyBytes: Int = 1 << 20) {
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.maxBodyBytes = maxBodyBytes
    }

    /// The same limits, shortened so the whole fetch fits in `budget` milliseconds.
    package func fitting(budget: Int64) -> JWKSFetchLimits {
        var limits = self
        limits.connectTimeout = max(1, min(connectTimeout, budget))
        limits.readTimeout = max(1, min(readTimeout, budget - limits.connectTimeout))
        return limits
    }
}

/// Why a JWKS fetch failed. `message` is safe to log: it names the step and the cause (status
/// code, timeout, size), never response bytes.
package struct JWKSFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// Fetches one JWKS document: `GET` the URL, return the body of a `200` response.
///
/// The refresh logic (`JWKSKeySource`, `JWKSRefresher`) knows only this protocol, so a
/// transport per scheme plugs in without touching it: plain HTTP today (GatewayServer's
/// `HTTPJWKSTransport`), TLS later. Called on the fetcher thread, never on an event loop; a
/// call may block up to the limits' timeouts.
package protocol JWKSTransport: Sendable {
    /// - Parameter tls: the context an `https` fetch verifies with (a `jwt` block's `ca`); nil:
    ///   the transport's own (the system store).
    /// - Returns: the response body, or why there is none.
    func fetch(_ url: JWKSURL, tls: ClientTLS?, limits: JWKSFetchLimits) -> Result<[UInt8], JWKSFetchError>
}
