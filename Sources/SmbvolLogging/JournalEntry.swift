import Logging

/// One entry of systemd's native journal protocol (systemd.journal-fields(7),
/// https://systemd.io/JOURNAL_NATIVE_PROTOCOL/): a sequence of fields, each `NAME=value\n`, or —
/// for a value holding a newline or bytes that are not text — `NAME\n`, the value's length as a
/// 64-bit little-endian integer, the value, `\n`.
public struct JournalEntry: Sendable, Equatable {
    public private(set) var fields: [(name: String, value: [UInt8])] = []

    public init() {}

    public static func == (lhs: JournalEntry, rhs: JournalEntry) -> Bool {
        lhs.fields.map(\.name) == rhs.fields.map(\.name) && lhs.fields.map(\.value) == rhs.fields.map(\.value)
    }

    public mutating func append(_ name: String, _ value: String) {
        fields.append((name, Array(value.utf8)))
    }

    /// The entry smbvol sends for one log record: identifier, priority, MESSAGE (the syslog
    /// line, already redacted), MESSAGE_ID for audit events, and every metadata key as an
    /// `SMBVOL_*` field (audit fields by their documented names). Values pass through the
    /// SecretRedactor.
    public static func record(
        level: Logger.Level, line: String, metadata: Logger.Metadata, redactor: SecretRedactor = .shared
    ) -> JournalEntry {
        var entry = JournalEntry()
        entry.append("SYSLOG_IDENTIFIER", "smbvol")
        entry.append("SYSLOG_FACILITY", "3")  // daemon, as the syslog lines
        entry.append("PRIORITY", "\(LineLogHandler.syslogPriority(level))")
        entry.append("MESSAGE", line)
        if let event = metadata["event"].map({ "\($0)" }), let kind = AuditEventKind(rawValue: event) {
            entry.append("MESSAGE_ID", kind.messageID)
        }
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            entry.append(fieldName(forMetadataKey: key), redactor.redact("\(value)"))
        }
        return entry
    }

    /// `client_address` → `SMBVOL_CLIENT`, `event` → `SMBVOL_EVENT`, anything else → `SMBVOL_`
    /// and the key in capitals with every other character made `_` (journal field names are
    /// A–Z, 0–9 and `_`, at most 64 characters).
    public static func fieldName(forMetadataKey key: String) -> String {
        if let field = AuditField.byLineKey[key] { return field.journalName }
        let letters: ClosedRange<Unicode.Scalar> = "A"..."Z"
        let digits: ClosedRange<Unicode.Scalar> = "0"..."9"
        let safe = key.uppercased().unicodeScalars.map { scalar -> Character in
            letters.contains(scalar) || digits.contains(scalar) ? Character(scalar) : "_"
        }
        return String(("SMBVOL_" + String(safe)).prefix(64))
    }

    /// The datagram (or memfd) payload.
    public var serialized: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.count + 10 })
        for field in fields {
            bytes += field.name.utf8
            if Self.needsBinaryForm(field.value) {
                bytes.append(UInt8(ascii: "\n"))
                var length = UInt64(field.value.count).littleEndian
                withUnsafeBytes(of: &length) { bytes += $0 }
                bytes += field.value
            } else {
                bytes.append(UInt8(ascii: "="))
                bytes += field.value
            }
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }

    /// A newline would end the field early; other control bytes (and invalid UTF-8) are not
    /// text, which journalctl shows as a blob unless sent length-prefixed.
    static func needsBinaryForm(_ value: [UInt8]) -> Bool {
        if value.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return true }
        return String(validating: value, as: UTF8.self) == nil
    }
}
