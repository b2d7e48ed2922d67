import Logging

/// Renders a log record as one line: the message, then `key=value` metadata sorted by key.
/// Message and values go through LineEscaping, so one event stays one line (syslog, libvirt's
/// error text) whatever the cluster, the XML or a file put in them.
enum LogLineFormatter {
    static func format(message: Logger.Message, metadata: Logger.Metadata) -> String {
        var line = flatten(message.description)
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            line += " \(key)=\(quoteIfNeeded(flatten(value.description)))"
        }
        return SecretRedactor.shared.redact(line)
    }

    /// Redacted before it is escaped: escaping a secret (a tab, a control character in a
    /// password) would otherwise change it so the redactor no longer recognises it.
    private static func flatten(_ text: String) -> String { LineEscaping.oneLine(SecretRedactor.shared.redact(text)) }

    private static func quoteIfNeeded(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return value }
        // Backslashes first: a quoted value ending in `\` must not escape the closing quote and
        // let the rest of a hostile value read as another key=value.
        return "\"" + value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }
}
