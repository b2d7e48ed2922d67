import Logging

/// Renders a log record as one line: the message, then `key=value` metadata sorted by key.
/// Newlines in values are flattened so one event stays one line (syslog, libvirt's error text).
enum LogLineFormatter {
    static func format(message: Logger.Message, metadata: Logger.Metadata) -> String {
        var line = flatten(message.description)
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            line += " \(key)=\(quoteIfNeeded(flatten(value.description)))"
        }
        return SecretRedactor.shared.redact(line)
    }

    private static func flatten(_ text: String) -> String {
        guard text.contains(where: { $0 == "\n" || $0 == "\r" }) else { return text }
        return text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    private static func quoteIfNeeded(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return value }
        return "\"" + value.replacing("\"", with: "\\\"") + "\""
    }
}
