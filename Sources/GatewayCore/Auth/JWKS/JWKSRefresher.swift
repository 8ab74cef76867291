/// One pass of JWKS refreshing: for each source whose fetch is due, fetch its URL through the
/// transport for the URL's scheme and hand the result to the source. The fetcher thread calls
/// `refreshDue` in a loop; startup and reload call it once with a time budget. Holds no state
/// of its own, so it is tested with a fake transport and an injected clock.
package struct JWKSRefresher: Sendable {
    /// Transports by scheme; a scheme without one fails its fetches (with the reason logged).
    package var transports: [JWKSURL.Scheme: any JWKSTransport]
    package var limits: JWKSFetchLimits

    package init(transports: [JWKSURL.Scheme: any JWKSTransport], limits: JWKSFetchLimits = JWKSFetchLimits()) {
        self.transports = transports
        self.limits = limits
    }

    /// Fetches every due source once, in order.
    /// - Parameters:
    ///   - budget: when given, the total milliseconds this pass may take (`clock` measures);
    ///     each fetch's timeouts are shortened to fit, and sources left when it is spent are
    ///     skipped (they stay due).
    ///   - report: called after each fetch with its outcome.
    package func refreshDue(
        _ sources: [JWKSKeySource], budget: Int64? = nil, clock: () -> Int64,
        report: (JWKSKeySource, JWKSRefreshOutcome) -> Void
    ) {
        let start = clock()
        for source in sources {
            var fetchLimits = limits
            if let budget {
                let left = budget - (clock() - start)
                guard left > 0 else { return }
                fetchLimits = limits.fitting(budget: left)
            }
            guard source.beginFetch() else { continue }
            let result: Result<[UInt8], JWKSFetchError>
            if let transport = transports[source.url.scheme] {
                result = transport.fetch(source.url, limits: fetchLimits)
            } else {
                result = .failure(JWKSFetchError("no transport for \(source.url.scheme.rawValue) URLs"))
            }
            report(source, source.finishFetch(result))
        }
    }
}
