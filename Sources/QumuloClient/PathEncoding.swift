/// Encodes an absolute cluster path as ONE URL path segment, the way `/v1/files/{ref}/…`
/// expects: every byte outside `A-Z a-z 0-9 _ . - ~` percent-encoded from UTF-8, so `/` becomes
/// `%2F`, space `%20`, `+` `%2B`, `%` `%25`, `#` `%23`.
public enum PathEncoding {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case notAbsolute(String)
        case containsNUL

        public var description: String {
            switch self {
            case .notAbsolute(let path): return "cluster path must be absolute (start with /): \(path)"
            case .containsNUL: return "cluster path contains a NUL byte"
            }
        }
    }

    public static func encodeSegment(_ path: String) throws(Failure) -> String {
        guard path.hasPrefix("/") else { throw .notAbsolute(path) }
        return try encodeComponent(path)
    }

    /// Percent-encodes a query value or path segment (same unreserved set).
    public static func encodeComponent(_ value: String) throws(Failure) -> String {
        var encoded = ""
        encoded.reserveCapacity(value.utf8.count * 3)
        for byte in value.utf8 {
            if byte == 0 { throw .containsNUL }
            if isUnreserved(byte) {
                encoded.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                encoded += "%"
                encoded += hexDigit(byte >> 4)
                encoded += hexDigit(byte & 0x0F)
            }
        }
        return encoded
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> String {
        String(UnicodeScalar(nibble < 10 ? nibble + 48 : nibble + 55))
    }
}
