private import COpenSSL
import GatewaySupport
import Synchronization
internal import Glibc

/// The process-wide session-ticket keys (RFC 5077 / RFC 8446 §4.6.1 resumption): tickets are
/// encrypted with the newest key, which is replaced every `rotation`; the previous ones still
/// decrypt (the client is handed a fresh ticket), older tickets mean a full handshake. Shared
/// by every TLS listener and kept across reloads, so resumption survives a certificate
/// reload and SNI switching contexts. Keys live in memory only: a restart forgets them, so a
/// stolen key cannot decrypt traffic recorded more than `rotation × keep` earlier.
final class TicketKeyRing: Sendable {
    static let shared = TicketKeyRing()

    /// How often a new encryption key is made.
    static let rotationMilliseconds: Int64 = 3_600_000
    /// Keys kept (the current one included): tickets live at most this many rotations.
    static let keep = 3
    /// The ticket lifetime clients are told (seconds): what the kept keys still decrypt.
    static let lifetimeSeconds = Int(rotationMilliseconds / 1000) * (keep - 1)

    struct Key {
        var name: [UInt8]   // 16
        var aes: [UInt8]    // 32
        var hmac: [UInt8]   // 32
    }

    private struct State {
        var keys: [Key] = []   // newest first
        var madeAt: Int64 = 0
    }
    private let state = Mutex(State())

    /// The key that encrypts new tickets (rotated first when it is due).
    func currentKey(now: Int64 = MonotonicClock.nowMilliseconds()) -> Key? {
        state.withLock { state in
            if state.keys.isEmpty || now - state.madeAt >= Self.rotationMilliseconds {
                guard let key = Self.makeKey() else { return state.keys.first }
                state.keys.insert(key, at: 0)
                if state.keys.count > Self.keep { state.keys.removeLast() }
                state.madeAt = now
            }
            return state.keys[0]
        }
    }

    /// The key named `name`, and whether it is the current one.
    func key(named name: UnsafePointer<UInt8>) -> (key: Key, isCurrent: Bool)? {
        state.withLock { state in
            for (index, key) in state.keys.enumerated() where key.name.withUnsafeBufferPointer({ memcmp($0.baseAddress!, name, 16) == 0 }) {
                return (key, index == 0)
            }
            return nil
        }
    }

    private static func makeKey() -> Key? {
        var bytes = [UInt8](repeating: 0, count: 80)
        guard RAND_bytes(&bytes, 80) == 1 else { return nil }
        return Key(name: Array(bytes[0..<16]), aes: Array(bytes[16..<48]), hmac: Array(bytes[48..<80]))
    }

    /// Makes `context` use these keys for its tickets.
    func install(on context: OpaquePointer) {
        _ = SSL_CTX_set_tlsext_ticket_key_evp_cb(context, ticketKeyCallback)
        SSL_CTX_set_timeout(context, Int(Self.lifetimeSeconds))
    }
}

/// OpenSSL's ticket-key callback: `encrypt` 1 names the current key and sets up the crypto
/// for a new ticket; 0 finds the key a presented ticket names (0: unknown, full handshake;
/// 1: resume, no new ticket; 2: resume and hand the client a new ticket).
///
/// A TLS 1.3 resumption always gets a new ticket, as OpenSSL does with its own keys: clients
/// use a TLS 1.3 ticket once (RFC 8446 §C.4; OpenSSL's client session cache, browsers), so
/// without one every other connection of a returning client was a full handshake. TLS 1.2
/// clients keep reusing their ticket; they get a new one only when an older key made it.
private let ticketKeyCallback: @convention(c) (
    OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, OpaquePointer?, OpaquePointer?, Int32
) -> Int32 = { ssl, name, iv, cipher, mac, encrypt in
    guard let name, let iv else { return -1 }
    if encrypt == 1 {
        guard let key = TicketKeyRing.shared.currentKey(), RAND_bytes(iv, 16) == 1 else { return -1 }
        key.name.withUnsafeBufferPointer { name.update(from: $0.baseAddress!, count: 16) }
        return gw_ticket_crypto_init(cipher, mac, key.aes, key.hmac, iv, 1) == 1 ? 1 : -1
    }
    guard let (key, isCurrent) = TicketKeyRing.shared.key(named: name) else { return 0 }
    guard gw_ticket_crypto_init(cipher, mac, key.aes, key.hmac, iv, 0) == 1 else { return -1 }
    return isCurrent && SSL_version(ssl) != TLS1_3_VERSION ? 1 : 2
}
