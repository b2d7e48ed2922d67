/// A small, strict, non-validating XML 1.0 reader with namespaces, for libvirt domain XML.
///
/// Reads UTF-8: elements, attributes, character data, the five predefined entities and
/// character references, CDATA sections, comments, processing instructions, an XML declaration
/// at the very start and a DOCTYPE (skipped: no entity is ever defined or resolved from it, so a
/// reference to any other entity is an error, and nothing external is ever read). Any
/// well-formedness error stops the reader with its byte position. It replaces FoundationXML's
/// XMLParser so the hook does not load Foundation, ICU and libxml2 at start-up.
struct StrictXMLReader {
    /// What the reader reports, in document order.
    protocol Sink: AnyObject {
        func startElement(_ name: String, namespaceURI: String?, attributes: [String: String])
        func characters(_ text: String)
        func endElement(_ name: String)
    }

    /// A well-formedness error at a byte offset.
    struct SyntaxError: Error {
        var offset: Int
        var detail: String
    }

    static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"

    let bytes: [UInt8]
    private var index = 0
    /// Open elements: qualified name, and the prefixes each declared (popped when it closes).
    private var open: [(name: String, declared: [String])] = []
    /// Namespace bindings in force: prefix (`""` for the default) → URIs, innermost last. A
    /// stack per prefix instead of a copy of the whole scope per element: a document nesting
    /// many elements that each declare a prefix stays linear.
    private var bindings: [String: [String]] = ["xml": [StrictXMLReader.xmlNamespace]]
    private var rootSeen = false

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Line and column (1-based; the column counts bytes) of an offset.
    func position(of offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for (index, byte) in bytes[..<min(offset, bytes.count)].enumerated() where byte == 0x0A {
            line += 1
            lineStart = index + 1
        }
        return (line, offset - lineStart + 1)
    }

    mutating func read(into sink: some Sink) throws(SyntaxError) {
        try checkCharacters()
        if hasPrefix([0xEF, 0xBB, 0xBF]) { index = 3 }
        if hasPrefix("<?xml"), index + 5 < bytes.count, isSpace(bytes[index + 5]) { try readDeclaration() }
        while index < bytes.count {
            if bytes[index] != UInt8(ascii: "<") {
                try readText(into: sink)
            } else if hasPrefix("<!--") {
                try readComment()
            } else if hasPrefix("<![CDATA[") {
                try readCData(into: sink)
            } else if hasPrefix("<!DOCTYPE") {
                try readDoctype()
            } else if hasPrefix("<?") {
                try readProcessingInstruction()
            } else if hasPrefix("</") {
                try readEndTag(into: sink)
            } else {
                try readStartTag(into: sink)
            }
        }
        if !open.isEmpty { throw SyntaxError(offset: bytes.count, detail: "the document ends early (an element is not closed)") }
        if !rootSeen { throw SyntaxError(offset: bytes.count, detail: "the document is empty") }
    }

    // MARK: - Markup

    private mutating func readDeclaration() throws(SyntaxError) {
        let start = index
        guard let end = find("?>", from: index) else { throw SyntaxError(offset: start, detail: "the XML declaration is not closed") }
        let body = String(decoding: bytes[(start + 5)..<end], as: UTF8.self)
        guard body.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).first?.hasPrefix("version") == true else {
            throw SyntaxError(offset: start, detail: "the XML declaration has no version")
        }
        index = end + 2
    }

    private mutating func readComment() throws(SyntaxError) {
        let start = index
        guard let end = find("--", from: index + 4) else { throw SyntaxError(offset: start, detail: "a comment is not closed") }
        guard end + 2 < bytes.count, bytes[end + 2] == UInt8(ascii: ">") else {
            throw SyntaxError(offset: end, detail: "'--' inside a comment")
        }
        index = end + 3
    }

    private mutating func readProcessingInstruction() throws(SyntaxError) {
        let start = index
        index += 2
        let target = try readName()
        if target.lowercased() == "xml" { throw SyntaxError(offset: start, detail: "XML declaration not at the start") }
        guard let end = find("?>", from: index) else { throw SyntaxError(offset: start, detail: "a processing instruction is not closed") }
        guard end == index || isSpace(bytes[index]) else { throw SyntaxError(offset: index, detail: "a malformed processing instruction") }
        index = end + 2
    }

    private mutating func readCData(into sink: some Sink) throws(SyntaxError) {
        let start = index
        guard !open.isEmpty else { throw SyntaxError(offset: start, detail: "CDATA outside the root element") }
        guard let end = find("]]>", from: index + 9) else { throw SyntaxError(offset: start, detail: "a CDATA section is not closed") }
        sink.characters(Self.normalizedLineEnds(bytes[(start + 9)..<end]))
        index = end + 3
    }

    /// `<!DOCTYPE name ... [internal subset]>`: skipped, quoted strings and the subset included.
    private mutating func readDoctype() throws(SyntaxError) {
        let start = index
        guard !rootSeen else { throw SyntaxError(offset: start, detail: "a DOCTYPE after the root element") }
        index += 9
        var quote: UInt8?
        var depth = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "]") {
                depth -= 1
            } else if byte == UInt8(ascii: ">"), depth <= 0 {
                return
            }
        }
        throw SyntaxError(offset: start, detail: "a DOCTYPE is not closed")
    }

    private mutating func readStartTag(into sink: some Sink) throws(SyntaxError) {
        let start = index
        if open.isEmpty, rootSeen { throw SyntaxError(offset: start, detail: "extra content after the root element") }
        index += 1
        let name = try readName()
        var attributes: [(name: String, value: String, offset: Int)] = []
        // A set, not a scan of the attributes so far: 100 000 attributes (1 MB) must not cost
        // 5·10⁹ comparisons and outlast the hook's deadline.
        var attributeNames: Set<String> = []
        var selfClosing = false
        while true {
            let hadSpace = skipSpace()
            guard index < bytes.count else { throw SyntaxError(offset: bytes.count, detail: "the document ends early (an element is not closed)") }
            if bytes[index] == UInt8(ascii: ">") {
                index += 1
                break
            }
            if bytes[index] == UInt8(ascii: "/") {
                guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: ">") else {
                    throw SyntaxError(offset: index, detail: "an element's '>' is missing")
                }
                index += 2
                selfClosing = true
                break
            }
            guard hadSpace else { throw SyntaxError(offset: index, detail: "an element's '>' is missing") }
            let attributeOffset = index
            let attributeName = try readName(detail: "a malformed attribute")
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                throw SyntaxError(offset: index, detail: "a malformed attribute (no '=' after \(attributeName))")
            }
            index += 1
            skipSpace()
            let value = try readAttributeValue()
            guard attributeNames.insert(attributeName).inserted else {
                throw SyntaxError(offset: attributeOffset, detail: "a malformed attribute (\(attributeName) given twice)")
            }
            attributes.append((attributeName, value, attributeOffset))
        }

        // Namespaces: this element's declarations, then its own prefix.
        var declared: [String] = []
        var plain: [String: String] = [:]
        for attribute in attributes {
            if attribute.name == "xmlns" {
                bindings["", default: []].append(attribute.value)
                declared.append("")
            } else if attribute.name.hasPrefix("xmlns:") {
                let prefix = String(attribute.name.dropFirst(6))
                guard !attribute.value.isEmpty else {
                    throw SyntaxError(offset: attribute.offset, detail: "namespace prefix \(prefix) bound to an empty name")
                }
                bindings[prefix, default: []].append(attribute.value)
                declared.append(prefix)
            }
        }
        for attribute in attributes where attribute.name != "xmlns" && !attribute.name.hasPrefix("xmlns:") {
            if let colon = attribute.name.firstIndex(of: ":"), binding(String(attribute.name[..<colon])) == nil {
                unbind(declared)
                throw SyntaxError(offset: attribute.offset, detail: "namespace prefix of \(attribute.name) is not declared")
            }
            plain[attribute.name] = attribute.value
        }
        let local: String
        let namespaceURI: String?
        if let colon = name.firstIndex(of: ":") {
            let prefix = String(name[..<colon])
            guard let uri = binding(prefix) else {
                unbind(declared)
                throw SyntaxError(offset: start, detail: "namespace prefix \(prefix) on <\(name)> is not declared")
            }
            local = String(name[name.index(after: colon)...])
            namespaceURI = uri
        } else {
            local = name
            namespaceURI = binding("").flatMap { $0.isEmpty ? nil : $0 }
        }
        rootSeen = true
        sink.startElement(local, namespaceURI: namespaceURI, attributes: plain)
        if selfClosing {
            unbind(declared)
            sink.endElement(local)
        } else {
            open.append((name, declared))
        }
    }

    private func binding(_ prefix: String) -> String? { bindings[prefix]?.last }

    private mutating func unbind(_ prefixes: [String]) {
        for prefix in prefixes { bindings[prefix]?.removeLast() }
    }

    private mutating func readEndTag(into sink: some Sink) throws(SyntaxError) {
        let start = index
        index += 2
        let name = try readName()
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else {
            throw SyntaxError(offset: index, detail: "an element's '>' is missing")
        }
        index += 1
        guard let current = open.last else {
            throw SyntaxError(offset: start, detail: "closing tag </\(name)> without an open element")
        }
        guard current.name == name else {
            throw SyntaxError(offset: start, detail: "closing tag </\(name)> does not match the open element <\(current.name)>")
        }
        unbind(open.removeLast().declared)
        sink.endElement(name.firstIndex(of: ":").map { String(name[name.index(after: $0)...]) } ?? name)
    }

    /// Character data up to the next '<'. Outside the root element only white space is allowed.
    private mutating func readText(into sink: some Sink) throws(SyntaxError) {
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "<") { index += 1 }
        let slice = bytes[start..<index]
        if open.isEmpty {
            if let stray = slice.firstIndex(where: { !isSpace($0) }) {
                throw SyntaxError(
                    offset: stray, detail: rootSeen ? "extra content after the root element" : "text before the root element")
            }
            return
        }
        // Search this text node only: scanning to the end of the document for every node would
        // make large documents quadratic.
        if let end = find("]]>", from: start, before: index) { throw SyntaxError(offset: end, detail: "']]>' in character data") }
        sink.characters(try decode(slice, attribute: false))
    }

    private mutating func readAttributeValue() throws(SyntaxError) -> String {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
            throw SyntaxError(offset: index, detail: "a malformed attribute (the value is not quoted)")
        }
        let quote = bytes[index]
        index += 1
        let start = index
        while index < bytes.count, bytes[index] != quote {
            if bytes[index] == UInt8(ascii: "<") { throw SyntaxError(offset: index, detail: "a malformed attribute ('<' in a value)") }
            index += 1
        }
        guard index < bytes.count else { throw SyntaxError(offset: start - 1, detail: "a malformed attribute (the value is not closed)") }
        let value = try decode(bytes[start..<index], attribute: true)
        index += 1
        return value
    }

    // MARK: - Pieces

    private mutating func readName(detail: String = "a malformed element name") throws(SyntaxError) -> String {
        let start = index
        guard index < bytes.count, Self.isNameStart(bytes[index]) else { throw SyntaxError(offset: index, detail: detail) }
        index += 1
        while index < bytes.count, Self.isNameStart(bytes[index]) || Self.isNameTail(bytes[index]) { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    static func isNameStart(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F || byte == 0x3A || byte >= 0x80
    }

    static func isNameTail(_ byte: UInt8) -> Bool { (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2E }

    private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    @discardableResult
    private mutating func skipSpace() -> Bool {
        let start = index
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
        return index > start
    }

    private func hasPrefix(_ text: String) -> Bool { hasPrefix(Array(text.utf8)) }

    private func hasPrefix(_ prefix: [UInt8]) -> Bool {
        guard index + prefix.count <= bytes.count else { return false }
        for (offset, byte) in prefix.enumerated() where bytes[index + offset] != byte { return false }
        return true
    }

    private func find(_ text: String, from start: Int, before limit: Int? = nil) -> Int? {
        let needle = Array(text.utf8)
        let end = min(limit ?? bytes.count, bytes.count)
        var position = start
        while position + needle.count <= end {
            if bytes[position] == needle[0] {
                var matches = true
                for offset in 1..<needle.count where bytes[position + offset] != needle[offset] {
                    matches = false
                    break
                }
                if matches { return position }
            }
            position += 1
        }
        return nil
    }
}
