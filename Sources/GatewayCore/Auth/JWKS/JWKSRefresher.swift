import GatewayTLS

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
            let tls = source.tls
            var result = fetch(source.url, tls: tls, limits: fetchLimits)
            if source.isDiscovery {
                result = result.flatMap { document in
                    Self.jwksURL(discovery: document, of: source).flatMap { fetch($0, tls: tls, limits: fetchLimits) }
                }
            }
            report(source, source.finishFetch(result))
        }
    }

    private func fetch(_ url: JWKSURL, tls: ClientTLS?, limits: JWKSFetchLimits) -> Result<[UInt8], JWKSFetchError> {
        guard let transport = transports[url.scheme] else {
            return .failure(JWKSFetchError("no transport for \(url.scheme.rawValue) URLs"))
        }
        return transport.fetch(url, tls: tls, limits: limits)
    }

    /// The `jwks_uri` of a discovery document (OIDC Discovery §3, RFC 8414 §2), after checking
    /// that its `issuer` is exactly the one configured (§4.3: otherwise the document may be
    /// another issuer's, and its keys must not verify this issuer's tokens) and that a
    /// document fetched over HTTPS does not send the key fetch over plain HTTP.
    static func jwksURL(discovery document: [UInt8], of source: JWKSKeySource) -> Result<JWKSURL, JWKSFetchError> {
        guard case .success(let json) = JSONParser.parse(document, maxBytes: 1 << 20), json.isObject else {
            return .failure(JWKSFetchError("discovery document is not a JSON object"))
        }
        guard let issuer = json["issuer"]?.stringValue else {
            return .failure(JWKSFetchError("discovery document has no issuer"))
        }
        guard issuer == source.issuer else {
            return .failure(JWKSFetchError("discovery issuer \"\(issuer)\" is not the configured \"\(source.issuer)\""))
        }
        guard let text = json["jwks_uri"]?.stringValue else {
            return .failure(JWKSFetchError("discovery document has no jwks_uri"))
        }
        let url: JWKSURL
        do {
            url = try JWKSURL.parse(text)
        } catch {
            return .failure(JWKSFetchError("discovery jwks_uri: \(error.message)"))
        }
        if source.url.scheme == .https && url.scheme != .https {
            return .failure(JWKSFetchError("discovery jwks_uri \(url) is not https"))
        }
        return .success(url)
    }
}
