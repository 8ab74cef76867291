import GatewayCore
package import GatewayHTTP
import GatewaySupport

/// Writes the head sent upstream (SPEC §8): the normalized path, the client's end-to-end
/// headers, and the gateway's own forwarding headers. Everything the gateway asserts is
/// stripped first and then written fresh, so a client cannot spoof it. Headers that describe
/// the original request to the upstream (`Forwarded`, `X-Real-IP`, `X-Original-URL`...) pass
/// only from a `trust_proxies` peer; a trusted `Forwarded` gets this hop appended.
package struct RequestHeadBuilder {
    /// Scratch for `Connection` tokens, reused across requests.
    var tokens: [ByteRange] = []
    /// What a trusted proxy said about the original request, gathered while copying fields;
    /// the arrays are scratch reused across requests.
    private var hints = ForwardingHints()

    private struct ForwardingHints {
        var forwardedFor: [ByteRange] = []
        var forwarded: [ByteRange] = []
        var proto: ByteRange? = nil
        var host: ByteRange? = nil

        mutating func reset() {
            forwardedFor.removeAll(keepingCapacity: true)
            forwarded.removeAll(keepingCapacity: true)
            proto = nil
            host = nil
        }
    }

    package init() {}

    // swiftlint:disable:next function_parameter_count
    package mutating func build(
        head: RequestHead, bytes: UnsafeRawBufferPointer, path: [UInt8], peer: [UInt8], peerTrusted: Bool,
        requestID: [UInt8], upstreamAuthority: String, websocket: Bool, secure: Bool = false, identityHeaders: [UInt8] = [],
        credentials keyHeader: [UInt8]? = [], stripQueryToken: Bool = false, into out: inout [UInt8]
    ) {
        out.removeAll(keepingCapacity: true)
        out.append(bytes, head.methodRange)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: path)
        if let query = head.query {
            if stripQueryToken {
                QueryToken.appendWithoutToken(query, bytes, to: &out)
            } else {
                out.append(UInt8(ascii: "?"))
                out.append(bytes, query)
            }
        }
        out.append(" HTTP/1.1\r\nHost: ")
        if let host = head.host { out.append(bytes, host) } else { out.append(contentsOf: upstreamAuthority.utf8) }
        out.append("\r\n")
        copyEndToEnd(head, bytes, peerTrusted: peerTrusted, credentials: keyHeader, into: &out)
        appendForwarding(head, bytes, peer: peer, secure: secure, into: &out)
        out.append("\r\nX-Request-Id: ")
        out.append(contentsOf: requestID)
        out.append("\r\n")
        out.append(contentsOf: identityHeaders)
        if head.isChunked {
            out.append("Transfer-Encoding: chunked\r\n")
        } else if let length = head.contentLength, length > 0 || head.method == .post || head.method == .put || head.method == .patch {
            out.append("Content-Length: ")
            Decimal.append(Int(length), to: &out)
            out.append("\r\n")
        }
        if websocket {
            // Only WebSocket is ever offered upstream, whatever else the client listed (SPEC §8).
            out.append("Connection: upgrade\r\nUpgrade: websocket\r\n")
        }
        out.append("\r\n")
    }

    /// Copies the client's end-to-end fields; hop-by-hop, framing and identity fields are
    /// dropped, and a trusted proxy's forwarding fields are kept aside in `hints`.
    private mutating func copyEndToEnd(
        _ head: RequestHead, _ bytes: UnsafeRawBufferPointer, peerTrusted: Bool, credentials keyHeader: [UInt8]?,
        into out: inout [UInt8]
    ) {
        ByteCompare.connectionTokens(head.headers, bytes, into: &tokens)
        hints.reset()
        for field in head.headers {
            let value = ByteRange(start: field.valueStart, count: field.valueCount)
            switch field.name {
            case .other, .methodOverride:   // an override reaching here names the request's own method
                if ByteCompare.isNominated(field, bytes, tokens) { continue }
                if let keyHeader, !keyHeader.isEmpty, ByteCompare.nameEquals(field, bytes, keyHeader) { continue }
                copy(field, bytes, into: &out)
            case .xForwardedFor:
                if peerTrusted { hints.forwardedFor.append(value) }
            case .xForwardedProto:
                if peerTrusted && hints.proto == nil { hints.proto = value }
            case .xForwardedHost:
                if peerTrusted && hints.host == nil { hints.host = value }
            case .forwarded:
                if peerTrusted { hints.forwarded.append(value) }
            case .forwardingHint:
                // X-Real-IP, X-Original-URL...: believed by upstreams, so only a trusted proxy's pass.
                if peerTrusted { copy(field, bytes, into: &out) }
            case .authorization:
                // The credential is removed unless the route says `forward_credentials on`
                // (public routes ignore and strip it too, SPEC §4).
                if keyHeader == nil { copy(field, bytes, into: &out) }
            case .host, .contentLength, .transferEncoding, .connection, .keepAlive, .proxyConnection, .te, .trailer,
                 .upgrade, .expect, .proxyAuthorization, .proxyAuthenticate, .xRequestId, .identity, .http2Settings,
                 .underscoreSpelling:
                // Framing and hop-by-hop fields are re-derived; identity is the gateway's to assert.
                continue
            }
        }
    }

    /// `X-Forwarded-For/-Proto/-Host` and `Forwarded`: a trusted proxy's values with this hop
    /// appended, or this hop alone (`https` when the client reached a TLS listener). Ends
    /// without the final CRLF.
    private func appendForwarding(
        _ head: RequestHead, _ bytes: UnsafeRawBufferPointer, peer: [UInt8], secure: Bool, into out: inout [UInt8]
    ) {
        out.append("X-Forwarded-For: ")
        for value in hints.forwardedFor where value.count > 0 {
            out.append(bytes, value)
            out.append(", ")
        }
        out.append(contentsOf: peer)
        out.append("\r\nX-Forwarded-Proto: ")
        if let proto = hints.proto { out.append(bytes, proto) } else { out.append(secure ? "https" : "http") }
        if let host = hints.host ?? head.host {
            out.append("\r\nX-Forwarded-Host: ")
            out.append(bytes, host)
        }
        if !hints.forwarded.isEmpty {
            // A trusted proxy's `Forwarded` gets this hop appended, as X-Forwarded-For does.
            out.append("\r\nForwarded: ")
            for value in hints.forwarded where value.count > 0 {
                out.append(bytes, value)
                out.append(", ")
            }
            appendForwardedNode(peer, to: &out)
        }
    }

    /// `for=<peer>` (RFC 7239 §6: an IPv6 address is bracketed and quoted).
    private func appendForwardedNode(_ peer: [UInt8], to out: inout [UInt8]) {
        if peer.contains(UInt8(ascii: ":")) {
            out.append("for=\"[")
            out.append(contentsOf: peer)
            out.append("]\"")
        } else {
            out.append("for=")
            out.append(contentsOf: peer)
        }
    }

    private func copy(_ field: HeaderField, _ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.append(bytes, ByteRange(start: field.nameStart, count: field.nameCount))
        out.append(": ")
        out.append(bytes, ByteRange(start: field.valueStart, count: field.valueCount))
        out.append("\r\n")
    }
}
