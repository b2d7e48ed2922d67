/// The one writer of smbvol's JSON: every `--json` document and the few request bodies built by
/// hand. Written byte by byte, because a cluster-wide `handles list` streams 100 000 objects and
/// JSONEncoder, one object at a time, costs more than the listing itself.
///
/// Strings are escaped per RFC 8259 and, beyond it, so that a document printed on a terminal can
/// neither drive it nor reorder what it shows: DEL, the C1 controls (CSI 0x9B), the line and
/// paragraph separators U+2028/U+2029 and the bidirectional marks, embeddings, overrides and
/// isolates (U+200E, U+200F, U+202A…U+202E, U+2066…U+2069, U+061C) become `\uXXXX`. The result
/// is valid JSON whatever the string holds; a parser gives back the original string.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// Starts over in the same storage (one allocation for a whole listing).
    public mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    /// Punctuation and keys the caller spells itself (`{"handles": [`): never escaped.
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func null() { raw("null") }

    public mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    public mutating func integer(_ value: Int64) {
        if (0...9).contains(value) {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
    }

    /// A whole number without a fraction (`12`, not `12.0`); not a number or infinite: null.
    public mutating func number(_ value: Double) {
        if !value.isFinite {
            null()
        } else if value.rounded() == value && abs(value) < 9.0e15 {
            integer(Int64(value))
        } else {
            bytes.append(contentsOf: "\(value)".utf8)
        }
    }

    /// `value` as a quoted string literal.
    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            // Runs that need no escape (nearly every byte of a listing) are copied whole.
            var runStart = 0
            var index = 0
            while index < utf8.count {
                guard let (scalar, length) = Self.escaped(utf8, at: index) else {
                    index += 1
                    continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                escape(scalar)
                index += length
                runStart = index
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .integer(let number): integer(number)
        case .number(let number): self.number(number)
        case .string(let text): string(text)
        case .array(let elements):
            raw("[")
            for (index, element) in elements.enumerated() {
                if index > 0 { raw(", ") }
                self.value(element)
            }
            raw("]")
        case .object(let members):
            raw("{")
            for (index, member) in members.enumerated() {
                if index > 0 { raw(", ") }
                string(member.key)
                raw(": ")
                self.value(member.value)
            }
            raw("}")
        }
    }

    /// The scalar starting at `index` and its length in bytes when it must be escaped. Only the
    /// lead bytes of escaped scalars are looked at further: C0, `"`, `\`, DEL (one byte), C1 and
    /// U+061C (lead 0xC2, 0xD8), U+200E…U+2069 (lead 0xE2). Swift strings are valid UTF-8, so
    /// the continuation bytes are there.
    private static func escaped(_ utf8: UnsafeBufferPointer<UInt8>, at index: Int) -> (UInt32, Int)? {
        let byte = utf8[index]
        switch byte {
        case 0x00..<0x20, UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x7F:
            return (UInt32(byte), 1)
        case 0xC2 where index + 1 < utf8.count && utf8[index + 1] <= 0x9F:
            return (UInt32(utf8[index + 1]), 2)
        case 0xD8 where index + 1 < utf8.count && utf8[index + 1] == 0x9C:
            return (0x061C, 2)
        case 0xE2 where index + 2 < utf8.count:
            let scalar = 0x2000 | UInt32(utf8[index + 1] & 0x3F) << 6 | UInt32(utf8[index + 2] & 0x3F)
            return isInvisibleFormatting(scalar) ? (scalar, 3) : nil
        default:
            return nil
        }
    }

    private static func isInvisibleFormatting(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private mutating func escape(_ scalar: UInt32) {
        switch scalar {
        case 0x22, 0x5C:
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(scalar))
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        default:
            let digits: StaticString = "0123456789abcdef"
            raw("\\u")
            digits.withUTF8Buffer { hex in
                for shift in [12, 8, 4, 0] { bytes.append(hex[Int(scalar >> UInt32(shift) & 0xF)]) }
            }
        }
    }
}

extension JSONWriter {
    /// `value` as a quoted JSON string literal.
    public static func quoted(_ value: String) -> String {
        var writer = JSONWriter(capacity: value.utf8.count + 2)
        writer.string(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// `value` as one JSON document and a line feed: what every `--json` prints.
    public static func document(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.value(value)
        writer.raw("\n")
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

/// A JSON document small enough to build whole (everything but the streamed handle listing).
/// Objects keep the order their members are given in.
public indirect enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// A string, or null when there is none.
    public static func nullable(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    public static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
}
