/// What each stage of a decision found, for `gateway explain`. Serving passes no trace, which
/// costs one nil check per stage.
package final class AccessTrace {
    package enum Event {
        /// The route that matched.
        case route(CompiledRoute)
        /// No credential on an `auth optional` route.
        case anonymous
        /// The credential proved this identity.
        case authenticated(Identity)
        /// The route's rules, all together.
        case authorization(AuthorizationResult)
        /// The bucket the request was counted against.
        case rateLimit(RateLimitPolicy, RateLimitDecision)
    }

    package private(set) var events: [Event] = []

    package init() {}

    func record(_ event: Event) { events.append(event) }
}

@available(*, unavailable)
extension AccessTrace: Sendable {}
