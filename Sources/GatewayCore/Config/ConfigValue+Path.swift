extension ConfigValue {
    /// A path the gateway answers itself (`decision_endpoint /_gateway/auth;`): absolute, and
    /// already in the normalized form requests are compared in (SPEC §4), so that exactly one
    /// spelling of a request path reaches it. No query.
    /// - Throws: `ConfigValueError` for a relative path, a query, or a path normalization
    ///   would change or refuse.
    package static func endpointPath(_ text: String) throws(ConfigValueError) -> String {
        guard text.hasPrefix("/") else { throw ConfigValueError("path \"\(text)\" must start with \"/\"") }
        guard !text.contains("?") else { throw ConfigValueError("path \"\(text)\" must not have a query") }
        var normalized: [UInt8] = []
        let bytes = Array(text.utf8)
        let refusal: PathError? = bytes.withUnsafeBytes { raw in
            do throws(PathError) {
                try PathNormalizer.normalize(raw, into: &normalized)
                return nil
            } catch {
                return error
            }
        }
        if let refusal { throw ConfigValueError("path \"\(text)\" is refused by path normalization (\(refusal.reason))") }
        guard normalized == bytes else {
            throw ConfigValueError("path \"\(text)\" is not normalized; write \"\(String(decoding: normalized, as: UTF8.self))\"")
        }
        return text
    }
}
