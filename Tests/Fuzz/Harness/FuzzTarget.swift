/// Every fuzz target: one parser (or reader) of untrusted bytes, with the invariant that must
/// hold for any input it accepts. A crash, a sanitizer report or a broken invariant is a finding.
enum FuzzTarget: String, CaseIterable {
    /// The request head parser; an accepted head, written out again, parses to the same head.
    case requestHead = "request-head"
    /// The response head parser; the same round trip.
    case responseHead = "response-head"
    /// The chunked decoder: the body fed at once and fed byte by byte decode alike.
    case chunked
    /// The configuration tokenizer, parser and validator (text only: no file is read).
    case config
    /// The strict JSON parser; an accepted document's size never exceeds the input's.
    case json
    /// The JWT verifier with a fixed HS256 key: no input verifies.
    case jwt
    /// base64url: what decodes re-encodes to the same text.
    case base64url
    /// The path normalizer: a normalized path normalizes to itself.
    case path
    /// `X-Original-URI`/`X-Forwarded-*` (decision endpoint) and `X-Forwarded-For` (client
    /// address) readers, on the headers of a parsed request head.
    case forwarded

    func run(_ input: UnsafeRawBufferPointer) {
        switch self {
        case .requestHead: HTTPTargets.requestHead(input)
        case .responseHead: HTTPTargets.responseHead(input)
        case .chunked: HTTPTargets.chunked(input)
        case .config: CoreTargets.config(input)
        case .json: CoreTargets.json(input)
        case .jwt: CoreTargets.jwt(input)
        case .base64url: CoreTargets.base64url(input)
        case .path: CoreTargets.path(input)
        case .forwarded: CoreTargets.forwarded(input)
        }
    }
}
