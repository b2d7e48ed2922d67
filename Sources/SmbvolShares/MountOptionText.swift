/// What may go into mount.cifs's `-o` option string (the export goes there too, as `unc=…`).
public enum MountOptionText {
    /// Why `value` cannot go into a `-o` option string, or nil: mount.cifs and the kernel split
    /// options at `,`; line breaks (CR LF included: checked per Unicode scalar, not per
    /// Character), NUL and other controls end or corrupt the string.
    public static func separatorProblem(in value: String) -> String? {
        for scalar in value.unicodeScalars {
            if scalar == "," { return "contains ','" }
            switch scalar.value {
            case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: return "contains a newline or control character"
            default: continue
            }
        }
        return nil
    }
}
