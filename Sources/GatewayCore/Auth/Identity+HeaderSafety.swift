extension Identity {
    /// Whether every value of the identity can travel in a header exactly as it is (SPEC §8).
    ///
    /// Identity headers carry UTF-8 byte for byte, so `José` arrives as `José` and two different
    /// principals never arrive as the same text. What no header can carry exactly is refused
    /// rather than cleaned (cleaning is what made `ad\u{0}min` arrive as `admin`):
    /// - control characters (C0, DEL, C1) anywhere: a header cannot hold them, and dropping them
    ///   would merge principals;
    /// - leading or trailing whitespace, ASCII or Unicode (`White_Space`: NBSP, U+2000…): field
    ///   parsers trim it, and so do the `strip()`s of upstream code;
    /// - an empty user id: nobody to name;
    /// - a permission or role that is empty or holds `,` or whitespace: the lists are sent
    ///   comma-separated (scopes space-separated), so it would read as two entries.
    ///
    /// Checked once per verified credential (a JWT when verified, an API key when looked up),
    /// never per cached request. - Returns: true when the identity may be forwarded.
    package var isRepresentableInHeaders: Bool {
        guard !userID.isEmpty, Self.isExactValue(userID) else { return false }
        for value in [orgID, email, name, keyID, tokenID] {
            if let value, !Self.isExactValue(value) { return false }
        }
        return permissions.allSatisfy(Self.isListEntry) && roles.allSatisfy(Self.isListEntry)
    }

    /// No control characters, and no whitespace at either end.
    static func isExactValue(_ value: String) -> Bool {
        let scalars = value.unicodeScalars
        if let first = scalars.first, first.properties.isWhitespace { return false }
        if let last = scalars.last, last.properties.isWhitespace { return false }
        return !scalars.contains(where: isControl)
    }

    /// Non-empty, with no control characters, whitespace or `,`.
    static func isListEntry(_ value: String) -> Bool {
        !value.isEmpty && !value.unicodeScalars.contains { $0 == "," || isControl($0) || $0.properties.isWhitespace }
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
