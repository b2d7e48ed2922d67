/// The one place where text from outside (the cluster, the domain XML, a file, a mount program)
/// is made safe for a line of output or log: stderr lines that libvirt shows in `virsh start`,
/// `check` and `handles list` output, syslog/audit lines. Nothing from outside may start a new
/// line (forging an audit entry or a hook message) or drive the terminal.
///
/// Works on Unicode scalars, not Characters: Swift's single Character `"\r\n"` is neither `"\r"`
/// nor `"\n"`, which is how CR LF used to slip through character-based checks.
public enum LineEscaping {
    /// `text` as one line: each run of line breaks (LF, CR, CR LF, VT, FF, NEL, U+2028, U+2029)
    /// becomes one space, a tab a space, and every other invisible control — C0, DEL, C1 (CSI
    /// 0x9B included), ESC (so an escape sequence cannot reach the terminal), bidirectional
    /// overrides — a visible `\u{…}` escape.
    public static func oneLine(_ text: String) -> String {
        guard needsEscaping(text) else { return text }
        var result = String.UnicodeScalarView()
        var inBreak = false
        for scalar in text.unicodeScalars {
            if isLineBreak(scalar) {
                if !inBreak { result.append(" ") }
                inBreak = true
                continue
            }
            inBreak = false
            if scalar == "\t" {
                result.append(" ")
            } else if isInvisibleControl(scalar) {
                result.append(contentsOf: visible(scalar).unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// Whether `oneLine` would change `text` (the common case is a fast no).
    public static func needsEscaping(_ text: String) -> Bool {
        text.unicodeScalars.contains { isLineBreak($0) || $0 == "\t" || isInvisibleControl($0) }
    }

    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    static func isInvisibleControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        // Bidirectional embeddings, overrides and isolates: reorder what a terminal shows.
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: return true
        default: return false
        }
    }

    static func visible(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "\\u{" + (hex.count < 2 ? "0" + hex : hex) + "}"
    }
}

extension LineEscaping {
    /// `text` escaped with `oneLine`, except a leading `\r` (a progress line redrawing itself)
    /// and a trailing `\n` (the end of the caller's line), which are the caller's own framing.
    public static func keepingFrame(_ text: String) -> String {
        guard needsEscaping(text) else { return text }
        var body = Substring(text)
        let leadingReturn = body.unicodeScalars.first == "\r" && body.unicodeScalars.dropFirst().first != "\n"
        if leadingReturn { body = Substring(body.unicodeScalars.dropFirst()) }
        let trailingNewline = body.unicodeScalars.last == "\n"
        if trailingNewline { body = Substring(body.unicodeScalars.dropLast()) }
        return (leadingReturn ? "\r" : "") + oneLine(String(body)) + (trailingNewline ? "\n" : "")
    }
}
