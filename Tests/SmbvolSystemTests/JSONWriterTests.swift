import Foundation
import SmbvolSystem
import Testing

@Suite("JSONWriter")
struct JSONWriterTests {
    /// Every scalar up to U+2100 (controls, C1, the separators, the bidirectional marks and
    /// overrides), and some beyond: each must survive a real JSON parser unchanged.
    static let everyScalar: String = {
        var scalars = String.UnicodeScalarView()
        for value in UInt32(0)...0x2100 { if let scalar = Unicode.Scalar(value) { scalars.append(scalar) } }
        for value: UInt32 in [0xFEFF, 0xFFFD, 0x1F44D, 0x1F3FD, 0x10FFFF] { scalars.append(Unicode.Scalar(value)!) }
        return String(scalars)
    }()

    static let mustEscape: [UInt32] = Array(0...0x1F) + [0x22, 0x5C] + Array(0x7F...0x9F)
        + [0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]

    @Test("every scalar round-trips through JSONSerialization")
    func roundTrip() throws {
        for text in [Self.everyScalar, "", "plain", "e\u{301}👍🏽\u{202E}\"\\"] {
            let document = JSONWriter.document(.object([("text", .string(text)), ("list", .strings([text, text]))]))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any])
            #expect(object["text"] as? String == text)
            #expect(object["list"] as? [String] == [text, text])
        }
    }

    @Test("controls, separators and bidirectional characters are written as \\u escapes, nothing else is")
    func escapes() {
        let quoted = JSONWriter.quoted(Self.everyScalar)
        let body = quoted.unicodeScalars.dropFirst().dropLast()
        for value in Self.mustEscape where value != 0x22 && value != 0x5C {
            #expect(!body.contains(Unicode.Scalar(value)!), "U+\(String(value, radix: 16)) written raw")
        }
        #expect(JSONWriter.quoted("\u{202E}\u{200F}\u{9B}\u{7F}\u{1B}") == #""\u202e\u200f\u009b\u007f\u001b""#)
        #expect(JSONWriter.quoted("a\"b\\c\n\r\t") == #""a\"b\\c\n\r\t""#)
        // Neighbours of the escaped ranges stay as they are.
        #expect(JSONWriter.quoted("\u{A0}\u{200D}\u{2027}\u{202F}\u{2065}\u{206A}\u{061B}é€") == "\"\u{A0}\u{200D}\u{2027}\u{202F}\u{2065}\u{206A}\u{061B}é€\"")
    }

    @Test("numbers: whole numbers without a fraction, the rest as Swift prints them, non-finite as null")
    func numbers() {
        #expect(JSONWriter.document(.array([.number(12), .number(-3), .number(0.5), .number(.nan), .number(.infinity), .integer(-7)])) == "[12, -3, 0.5, null, null, -7]\n")
        #expect(JSONWriter.document(.object([("a", .nullable(nil)), ("b", .bool(true))])) == "{\"a\": null, \"b\": true}\n")
    }
}
