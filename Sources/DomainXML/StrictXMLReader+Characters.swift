/// Character-level pieces of StrictXMLReader: references, line ends, and the check that every
/// byte is valid UTF-8 and an XML character (invalid UTF-8 is an error, never replaced).
extension StrictXMLReader {
    /// Entity and character references replaced; line ends normalized to LF; in attribute
    /// values, each white-space character becomes a space (XML 1.0 §3.3.3).
    func decode(_ slice: ArraySlice<UInt8>, attribute: Bool) throws(SyntaxError) -> String {
        if !slice.contains(UInt8(ascii: "&")), !slice.contains(0x0D), !(attribute && slice.contains(where: { $0 == 0x09 || $0 == 0x0A })) {
            return String(decoding: slice, as: UTF8.self)
        }
        var output: [UInt8] = []
        output.reserveCapacity(slice.count)
        var position = slice.startIndex
        while position < slice.endIndex {
            let byte = slice[position]
            if byte == UInt8(ascii: "&") {
                guard let semicolon = slice[position...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                    throw SyntaxError(offset: position, detail: "a malformed entity reference")
                }
                let name = String(decoding: slice[(position + 1)..<semicolon], as: UTF8.self)
                guard let scalar = Self.entity(name) else {
                    throw SyntaxError(offset: position, detail: name.hasPrefix("#") ? "an invalid character reference &\(name);" : "an undefined entity &\(name);")
                }
                output.append(contentsOf: Array(String(Character(scalar)).utf8))
                position = semicolon + 1
                continue
            }
            if byte == 0x0D {
                output.append(attribute ? 0x20 : 0x0A)
                if position + 1 < slice.endIndex, slice[position + 1] == 0x0A { position += 1 }
            } else if attribute, byte == 0x09 || byte == 0x0A {
                output.append(0x20)
            } else {
                output.append(byte)
            }
            position += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func normalizedLineEnds(_ slice: ArraySlice<UInt8>) -> String {
        guard slice.contains(0x0D) else { return String(decoding: slice, as: UTF8.self) }
        var output: [UInt8] = []
        var position = slice.startIndex
        while position < slice.endIndex {
            if slice[position] == 0x0D {
                output.append(0x0A)
                if position + 1 < slice.endIndex, slice[position + 1] == 0x0A { position += 1 }
            } else {
                output.append(slice[position])
            }
            position += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func entity(_ name: String) -> Unicode.Scalar? {
        switch name {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "apos": return "'"
        case "quot": return "\""
        default: break
        }
        guard name.hasPrefix("#") else { return nil }
        let digits = name.dropFirst()
        let value: UInt32?
        if digits.hasPrefix("x") {
            let hex = digits.dropFirst()
            value = hex.isEmpty || !hex.allSatisfy(\.isHexDigit) ? nil : UInt32(hex, radix: 16)
        } else {
            value = digits.isEmpty || !digits.allSatisfy({ $0 >= "0" && $0 <= "9" }) ? nil : UInt32(digits)
        }
        guard let value, isXMLCharacter(value) else { return nil }
        return Unicode.Scalar(value)
    }

    static func isXMLCharacter(_ value: UInt32) -> Bool {
        value == 0x9 || value == 0xA || value == 0xD || (0x20...0xD7FF).contains(value) || (0xE000...0xFFFD).contains(value)
            || (0x10000...0x10FFFF).contains(value)
    }

    /// Every byte is valid UTF-8 and an XML character (no C0 controls but tab, LF and CR).
    func checkCharacters() throws(SyntaxError) {
        var position = 0
        while position < bytes.count {
            let byte = bytes[position]
            if byte < 0x80 {
                if byte < 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D {
                    throw SyntaxError(offset: position, detail: "an invalid character")
                }
                position += 1
                continue
            }
            let length: Int
            var scalar: UInt32
            switch byte {
            case 0xC2...0xDF: length = 2; scalar = UInt32(byte & 0x1F)
            case 0xE0...0xEF: length = 3; scalar = UInt32(byte & 0x0F)
            case 0xF0...0xF4: length = 4; scalar = UInt32(byte & 0x07)
            default: throw SyntaxError(offset: position, detail: "an invalid character (not UTF-8)")
            }
            guard position + length <= bytes.count else { throw SyntaxError(offset: position, detail: "an invalid character (not UTF-8)") }
            for offset in 1..<length {
                let next = bytes[position + offset]
                guard next & 0xC0 == 0x80 else { throw SyntaxError(offset: position, detail: "an invalid character (not UTF-8)") }
                scalar = scalar << 6 | UInt32(next & 0x3F)
            }
            let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
            guard scalar >= minimum, Self.isXMLCharacter(scalar) else {
                throw SyntaxError(offset: position, detail: "an invalid character")
            }
            position += length
        }
    }
}
