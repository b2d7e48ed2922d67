/// JSON string literals for hand-written JSON output: streaming 100 000 handles through
/// JSONEncoder one object at a time costs more than the listing itself.
public enum JSONString {
    /// `value` as a quoted JSON string literal (RFC 8259 escaping).
    public static func quoted(_ value: String) -> String {
        var escaped = "\""
        escaped.reserveCapacity(value.utf8.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                // C0 must be escaped (RFC 8259); DEL, C1 (CSI 0x9B) and U+2028/U+2029 may be,
                // and are, so JSON printed on a terminal cannot drive it or break a line.
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        escaped += "\""
        return escaped
    }

    /// `values` as a JSON array of strings.
    public static func array(_ values: [String]) -> String {
        "[" + values.map(quoted).joined(separator: ", ") + "]"
    }
}
