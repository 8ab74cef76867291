/// Why an API key was refused. For logs only: every reason gets the same HTTP answer
/// (401 `invalid_token`).
package struct APIKeyFailure: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable { case malformed, badChecksum, unknownID, wrongSecret, expired, inactive }
    private let code: Code
    private init(_ code: Code) { self.code = code }

    /// Not the shape of a key with a configured prefix.
    package static let malformed = APIKeyFailure(.malformed)
    /// The shape is right but the CRC-32 check does not match (a typo or garbage).
    package static let badChecksum = APIKeyFailure(.badChecksum)
    /// No key with that id (or, for a legacy key, that hash).
    package static let unknownID = APIKeyFailure(.unknownID)
    /// The id exists but the secret does not match.
    package static let wrongSecret = APIKeyFailure(.wrongSecret)
    /// Past `expires_at`.
    package static let expired = APIKeyFailure(.expired)
    /// Revoked, or a rotated key past its grace period.
    package static let inactive = APIKeyFailure(.inactive)

    /// The stable log `reason` (`malformed`, `bad_checksum`, `unknown_id`, `wrong_secret`,
    /// `expired`, `inactive`).
    package var reason: String {
        switch code {
        case .malformed: "malformed"
        case .badChecksum: "bad_checksum"
        case .unknownID: "unknown_id"
        case .wrongSecret: "wrong_secret"
        case .expired: "expired"
        case .inactive: "inactive"
        }
    }

    package var description: String { reason }
}
