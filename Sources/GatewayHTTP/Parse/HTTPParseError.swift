/// Why a request or response could not be parsed. Each case maps to one status in the server
/// (431 for the size cases, 400 for everything else) and carries a stable `reason` for the log.
package enum HTTPParseError: Error, Equatable, Sendable {
    /// The head grew past `maxHeadBytes` before its end was found (431).
    case headTooLarge
    /// More than `maxHeaderCount` header fields (431).
    case tooManyHeaders
    /// Any framing or syntax violation (400, connection closed).
    case badRequest(BadMessageReason)
}

/// A stable, log-safe name for each way a message can be malformed (no message bytes in it).
package enum BadMessageReason: String, Sendable {
    case requestLine = "bad_request_line"
    case method = "bad_method"
    case target = "bad_target"
    case version = "bad_version"
    case bareLineFeed = "bare_lf"
    case headerName = "bad_header_name"
    case spaceBeforeColon = "space_before_colon"
    case obsFold = "obs_fold"
    case headerValue = "bad_header_value"
    case missingHost = "missing_host"
    case duplicateHost = "duplicate_host"
    case invalidHost = "invalid_host"
    case contentLength = "bad_content_length"
    case duplicateContentLength = "duplicate_content_length"
    case transferEncoding = "bad_transfer_encoding"
    case contentLengthWithTransferEncoding = "cl_and_te"
    case expectation = "bad_expect"
    case chunkSize = "bad_chunk_size"
    case chunkExtension = "bad_chunk_extension"
    case chunkData = "bad_chunk_data"
    case trailer = "bad_trailer"
    case statusLine = "bad_status_line"
}
