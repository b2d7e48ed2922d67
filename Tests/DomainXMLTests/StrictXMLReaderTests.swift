import Testing

@testable import DomainXML

/// What the reader reported, in document order. Adjacent character data is merged: the
/// reader may split text at references, CDATA and comments.
private final class RecordingSink: StrictXMLReader.Sink {
    enum Event: Equatable {
        case start(String, namespace: String?, attributes: [String: String])
        case text(String)
        case end(String)
    }

    var events: [Event] = []

    func startElement(_ name: String, namespaceURI: String?, attributes: [String: String]) {
        events.append(.start(name, namespace: namespaceURI, attributes: attributes))
    }

    func characters(_ text: String) {
        if case .text(let previous) = events.last {
            events[events.count - 1] = .text(previous + text)
        } else {
            events.append(.text(text))
        }
    }

    func endElement(_ name: String) { events.append(.end(name)) }
}

/// Counts instead of recording: for documents with 10⁵ elements or 10 MB values.
private final class CountingSink: StrictXMLReader.Sink {
    var starts = 0
    var ends = 0
    var deepest = 0
    var characterCount = 0
    var longestAttribute = 0
    private var depth = 0

    func startElement(_ name: String, namespaceURI: String?, attributes: [String: String]) {
        starts += 1
        depth += 1
        deepest = max(deepest, depth)
        longestAttribute = max(longestAttribute, attributes.values.map(\.utf8.count).max() ?? 0)
    }

    func characters(_ text: String) { characterCount += text.utf8.count }

    func endElement(_ name: String) {
        ends += 1
        depth -= 1
    }
}

private typealias Event = RecordingSink.Event

private func events(_ xml: String) throws -> [Event] {
    let sink = RecordingSink()
    var reader = StrictXMLReader(Array(xml.utf8))
    try reader.read(into: sink)
    return sink.events
}

/// The reader's error for `xml`: its detail and where it points (line, column).
private func failure(_ xml: String) -> (detail: String, line: Int, column: Int)? {
    failure(bytes: Array(xml.utf8))
}

private func failure(bytes: [UInt8]) -> (detail: String, line: Int, column: Int)? {
    var reader = StrictXMLReader(bytes)
    do {
        try reader.read(into: RecordingSink())
        return nil
    } catch {
        let (line, column) = reader.position(of: error.offset)
        return (error.detail, line, column)
    }
}

private func elapsedSeconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

@Suite("StrictXMLReader")
struct StrictXMLReaderTests {
    // MARK: - Well-formed documents

    @Test("elements, attributes and text are reported in document order; self-closing tags start and end")
    func documentOrder() throws {
        #expect(try events("<a x='1' y=\"2\">hi<b/>there<c k = 'v' ></c></a>") == [
            .start("a", namespace: nil, attributes: ["x": "1", "y": "2"]),
            .text("hi"),
            .start("b", namespace: nil, attributes: [:]), .end("b"),
            .text("there"),
            .start("c", namespace: nil, attributes: ["k": "v"]), .end("c"),
            .end("a"),
        ])
    }

    @Test("an XML declaration, a BOM and white space around the root are accepted and not reported")
    func prologue() throws {
        let expected: [Event] = [.start("a", namespace: nil, attributes: [:]), .end("a")]
        #expect(try events("<?xml version='1.0' encoding='UTF-8'?>\n<a/>\n") == expected)
        #expect(try events("\u{FEFF}<?xml version=\"1.0\"?><a/>") == expected)
        #expect(try events("  \n\t<a></a>\r\n ") == expected)
    }

    @Test("line ends become LF in text; in attribute values tab, CR and LF each become a space")
    func lineEnds() throws {
        #expect(try events("<a v='x\ty\nz\r\nw'>1\r\n2\r3</a>") == [
            .start("a", namespace: nil, attributes: ["v": "x y z w"]), .text("1\n2\n3"), .end("a"),
        ])
    }

    // MARK: - Malformed input

    @Test("unclosed and mismatched tags are refused with what is wrong")
    func tagStructure() {
        #expect(failure("<a><b></b>")?.detail == "the document ends early (an element is not closed)")
        #expect(failure("<a><b>")?.detail == "the document ends early (an element is not closed)")
        #expect(failure("<a x='1'")?.detail == "the document ends early (an element is not closed)")
        #expect(failure("<a></b>")?.detail == "closing tag </b> does not match the open element <a>")
        #expect(failure("<a><b></a></b>")?.detail == "closing tag </a> does not match the open element <b>")
        #expect(failure("</a>")?.detail == "closing tag </a> without an open element")
        #expect(failure("<a></a >")?.detail == nil)
        #expect(failure("<a></a x>")?.detail == "an element's '>' is missing")
        #expect(failure("<1a/>")?.detail == "a malformed element name")
        #expect(failure("< a/>")?.detail == "a malformed element name")
        #expect(failure("<a/ >")?.detail == "an element's '>' is missing")
    }

    @Test("content outside the one root element is refused")
    func outsideTheRoot() {
        #expect(failure("<a/>junk")?.detail == "extra content after the root element")
        #expect(failure("<a/><b/>")?.detail == "extra content after the root element")
        #expect(failure("<a></a><a></a>")?.detail == "extra content after the root element")
        #expect(failure("text<a/>")?.detail == "text before the root element")
        #expect(failure("<a/><![CDATA[x]]>")?.detail == "CDATA outside the root element")
        #expect(failure("")?.detail == "the document is empty")
        #expect(failure("  <!-- only a comment -->  ")?.detail == "the document is empty")
    }

    @Test("bad attribute syntax: unquoted, no '=', no space between, unclosed, '<' in a value, given twice")
    func attributeSyntax() throws {
        #expect(failure("<a x=1/>")?.detail == "a malformed attribute (the value is not quoted)")
        #expect(failure("<a x/>")?.detail == "a malformed attribute (no '=' after x)")
        #expect(failure("<a x='1'y='2'/>")?.detail == "an element's '>' is missing")
        #expect(failure("<a x='1/>")?.detail == "a malformed attribute (the value is not closed)")
        #expect(failure("<a x='a<b'/>")?.detail == "a malformed attribute ('<' in a value)")
        #expect(failure("<a x='1\"/>")?.detail == "a malformed attribute (the value is not closed)")
        #expect(failure("<a 1x='1'/>")?.detail == "a malformed attribute")
        #expect(failure("<a x='1' x='2'/>")?.detail == "a malformed attribute (x given twice)")
        #expect(failure("<a x='1' y='2' x=\"1\"/>")?.detail == "a malformed attribute (x given twice)")
        // Quotes of the other kind inside a value are just characters.
        #expect(try events("<a x=\"it's\" y='say \"hi\"'/>").first == .start("a", namespace: nil, attributes: ["x": "it's", "y": "say \"hi\""]))
    }

    @Test("the error points at the offending byte: line and column")
    func errorPosition() throws {
        let error = try #require(failure("<a>\n  <b>\n  </c>\n</a>"))
        #expect(error.detail == "closing tag </c> does not match the open element <b>")
        #expect(error.line == 3 && error.column == 3)
        let duplicate = try #require(failure("<a\n x='1'\n   x='2'/>"))
        #expect(duplicate.line == 3 && duplicate.column == 4)
    }

    @Test("characters: control bytes and invalid UTF-8 refused at their position, never replaced")
    func characters() throws {
        #expect(failure("<a>\u{1}</a>")?.detail == "an invalid character")
        #expect(failure("<a>\u{0}</a>")?.detail == "an invalid character")
        let invalid = try #require(failure(bytes: Array("<a>x".utf8) + [0xC3, 0x28] + Array("</a>".utf8)))
        #expect(invalid.detail == "an invalid character (not UTF-8)" && invalid.column == 5)
        // Overlong encodings and UTF-8 surrogates are not UTF-8 either.
        #expect(failure(bytes: Array("<a>".utf8) + [0xC0, 0xAF] + Array("</a>".utf8)) != nil)
        #expect(failure(bytes: Array("<a>".utf8) + [0xE0, 0x80, 0xAF] + Array("</a>".utf8))?.detail == "an invalid character")
        #expect(failure(bytes: Array("<a>".utf8) + [0xED, 0xA0, 0x80] + Array("</a>".utf8))?.detail == "an invalid character")
        #expect(failure(bytes: Array("<a>".utf8) + [0xE2, 0x82] )?.detail == "an invalid character (not UTF-8)")
        #expect(try events("<a>ünï ✓ 😀</a>")[1] == .text("ünï ✓ 😀"))
    }

    // MARK: - Entities

    @Test("the five predefined entities, in text and in attribute values")
    func predefinedEntities() throws {
        #expect(try events("<a v='&lt;&gt;&amp;&apos;&quot;'>&lt;b&gt; &amp;&amp; &apos;&quot;</a>") == [
            .start("a", namespace: nil, attributes: ["v": "<>&'\""]), .text("<b> && '\""), .end("a"),
        ])
        // A decoded '&lt;' is text, not markup; '&amp;lt;' is the characters "&lt;".
        #expect(try events("<a>&amp;lt;</a>")[1] == .text("&lt;"))
    }

    @Test("character references: decimal and hex, BMP and beyond; invalid code points refused")
    func characterReferences() throws {
        #expect(try events("<a v='&#65;&#x42;&#0067;'>&#x1F600;&#233;&#xe9;&#9;</a>") == [
            .start("a", namespace: nil, attributes: ["v": "ABC"]), .text("😀éé\t"), .end("a"),
        ])
    }

    @Test("character references to non-characters, and malformed ones, are refused")
    func badCharacterReferences() {
        for reference in ["&#0;", "&#x0;", "&#1;", "&#xD800;", "&#xDFFF;", "&#xFFFE;", "&#x110000;", "&#;", "&#x;", "&#12a;", "&#xZZ;", "&#-1;", "&#X43;"] {
            #expect(failure("<a>\(reference)</a>")?.detail == "an invalid character reference \(reference)", "\(reference)")
        }
        #expect(failure("<a>&amp</a>")?.detail == "a malformed entity reference")
        #expect(failure("<a>AT&T</a>")?.detail == "a malformed entity reference")
        #expect(failure("<a>&#99999999999999999999;</a>")?.detail == "a malformed entity reference")
    }

    @Test("an unknown entity is refused; nothing a DOCTYPE defines is ever expanded or fetched")
    func entitiesFromDoctype() {
        #expect(failure("<a>&nbsp;</a>")?.detail == "an undefined entity &nbsp;")
        #expect(failure("<a v='&copy;'/>")?.detail == "an undefined entity &copy;")
        // An internal entity, an external one (XXE) and a billion-laughs chain: the DOCTYPE is
        // skipped, so each reference is simply undefined — no expansion, no file or URL read.
        #expect(failure("<!DOCTYPE a [<!ENTITY e \"boom\">]><a>&e;</a>")?.detail == "an undefined entity &e;")
        #expect(failure("<!DOCTYPE a [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><a>&xxe;</a>")?.detail == "an undefined entity &xxe;")
        #expect(failure("<!DOCTYPE a SYSTEM \"http://example.invalid/a.dtd\"><a v='&ext;'/>")?.detail == "an undefined entity &ext;")
        let laughs = """
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
            <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><lolz>&lol2;</lolz>
            """
        #expect(failure(laughs)?.detail == "an undefined entity &lol2;")
    }

    @Test("a DOCTYPE is skipped (quoted '>' and internal subset included) before the root, refused after it")
    func doctype() throws {
        let expected: [Event] = [.start("a", namespace: nil, attributes: [:]), .end("a")]
        #expect(try events("<!DOCTYPE a><a/>") == expected)
        #expect(try events("<?xml version='1.0'?><!DOCTYPE a PUBLIC \"-//x>y//\" 'sys>tem' [<!ELEMENT a EMPTY><!ATTLIST a v CDATA '>'>]><a/>") == expected)
        #expect(failure("<a/><!DOCTYPE a>")?.detail == "a DOCTYPE after the root element")
        #expect(failure("<a><!DOCTYPE a></a>")?.detail == "a DOCTYPE after the root element")
        #expect(failure("<!DOCTYPE a [<!ENTITY e 'x'>")?.detail == "a DOCTYPE is not closed")
    }

    // MARK: - CDATA, comments, processing instructions

    @Test("CDATA: markup and references inside are text as written; line ends normalized")
    func cdata() throws {
        #expect(try events("<a>x<![CDATA[<b>&amp; ]] ]>]]>y</a>") == [
            .start("a", namespace: nil, attributes: [:]), .text("x<b>&amp; ]] ]>y"), .end("a"),
        ])
        #expect(try events("<a><![CDATA[1\r\n2]]></a>")[1] == .text("1\n2"))
        #expect(try events("<a><![CDATA[]]></a>")[1] == .text(""))
        #expect(failure("<a><![CDATA[never closed</a>")?.detail == "a CDATA section is not closed")
        #expect(failure("<a>x ]]> y</a>")?.detail == "']]>' in character data")
    }

    @Test("comments are skipped anywhere; '--' inside one and an unclosed one are refused")
    func comments() throws {
        #expect(try events("<!-- before --><a>x<!-- <b>&undefined; -->y</a><!-- after -->") == [
            .start("a", namespace: nil, attributes: [:]), .text("xy"), .end("a"),
        ])
        #expect(try events("<a><!----></a>") == [.start("a", namespace: nil, attributes: [:]), .end("a")])
        #expect(failure("<a><!-- a -- b --></a>")?.detail == "'--' inside a comment")
        #expect(failure("<a><!-- ends badly ---></a>")?.detail == "'--' inside a comment")
        #expect(failure("<a><!-- never closed </a>")?.detail == "a comment is not closed")
    }

    @Test("processing instructions are skipped; a late XML declaration or a malformed one is refused")
    func processingInstructions() throws {
        #expect(try events("<?xml version='1.0'?><?xml-stylesheet href='s.xsl'?><a><?app do this?><?empty?></a><?tail?>") == [
            .start("a", namespace: nil, attributes: [:]), .end("a"),
        ])
        #expect(failure("<a/><?xml version='1.0'?>")?.detail == "XML declaration not at the start")
        #expect(failure(" <?xml version='1.0'?><a/>")?.detail == "XML declaration not at the start")
        #expect(failure("<?XML version='1.0'?><a/>")?.detail == "XML declaration not at the start")
        #expect(failure("<?xml encoding='UTF-8'?><a/>")?.detail == "the XML declaration has no version")
        #expect(failure("<?xml version='1.0'")?.detail == "the XML declaration is not closed")
        #expect(failure("<a><?app never closed</a>")?.detail == "a processing instruction is not closed")
        #expect(failure("<a><?app\"x\"?></a>")?.detail == "a malformed processing instruction")
        #expect(failure("<a><? x?></a>")?.detail == "a malformed element name")
    }

    // MARK: - Namespaces

    @Test("namespaces: elements by local name and URI; attribute names kept as written, declarations not reported")
    func namespaces() throws {
        let xml = """
            <d:domain xmlns:d='urn:d' xmlns:q='urn:q' q:mark='1' plain='2' xml:lang='en'>\
            <d:name>x</d:name><q:extra/><bare/></d:domain>
            """
        #expect(try events(xml) == [
            .start("domain", namespace: "urn:d", attributes: ["q:mark": "1", "plain": "2", "xml:lang": "en"]),
            .start("name", namespace: "urn:d", attributes: [:]), .text("x"), .end("name"),
            .start("extra", namespace: "urn:q", attributes: [:]), .end("extra"),
            .start("bare", namespace: nil, attributes: [:]), .end("bare"),
            .end("domain"),
        ])
    }

    @Test("a default namespace applies to unprefixed descendants until undeclared with xmlns=''")
    func defaultNamespace() throws {
        #expect(try events("<a xmlns='urn:x'><b/><c xmlns=''><e/></c><f/></a>") == [
            .start("a", namespace: "urn:x", attributes: [:]),
            .start("b", namespace: "urn:x", attributes: [:]), .end("b"),
            .start("c", namespace: nil, attributes: [:]),
            .start("e", namespace: nil, attributes: [:]), .end("e"),
            .end("c"),
            .start("f", namespace: "urn:x", attributes: [:]), .end("f"),
            .end("a"),
        ])
    }

    @Test("undeclared prefixes, a prefix out of scope and a prefix bound to nothing are refused")
    func badNamespaces() {
        #expect(failure("<p:a/>")?.detail == "namespace prefix p on <p:a> is not declared")
        #expect(failure("<a p:x='1'/>")?.detail == "namespace prefix of p:x is not declared")
        #expect(failure("<a xmlns:p=''/>")?.detail == "namespace prefix p bound to an empty name")
        #expect(failure("<a><b xmlns:p='urn:p'/><p:c/></a>")?.detail == "namespace prefix p on <p:c> is not declared")
        // The same prefix rebound inside: the inner binding wins there, the outer one after.
        #expect(failure("<p:a xmlns:p='urn:1'><p:b xmlns:p='urn:2'/><p:c/></p:a>") == nil)
    }

    @Test("a prefix rebound inside an element applies there only")
    func rebinding() throws {
        let found = try events("<p:a xmlns:p='urn:1'><p:b xmlns:p='urn:2'/><p:c/></p:a>").compactMap { event -> String? in
            guard case .start(let name, let namespace, _) = event else { return nil }
            return "\(name)=\(namespace ?? "-")"
        }
        #expect(found == ["a=urn:1", "b=urn:2", "c=urn:1"])
    }

    // MARK: - Size

    // The time bounds are loose on purpose (a debug build on a loaded machine): a quadratic
    // reader would take hours on these sizes, not seconds.

    @Test("10 000 and 100 000 nested elements: read without recursion (no stack overflow), in linear time")
    func deepNesting() throws {
        for depth in [10_000, 100_000] {
            let xml = Array((String(repeating: "<e>", count: depth) + "x" + String(repeating: "</e>", count: depth)).utf8)
            let sink = CountingSink()
            var reader = StrictXMLReader(xml)
            let seconds = try elapsedSeconds { try reader.read(into: sink) }
            #expect(sink.deepest == depth && sink.starts == depth && sink.ends == depth && sink.characterCount == 1)
            #expect(seconds < 60, "\(depth) levels took \(seconds) s")
        }
        // Cut short at the deepest point: refused, not a crash.
        let unclosed = String(repeating: "<e>", count: 100_000)
        #expect(failure(unclosed)?.detail == "the document ends early (an element is not closed)")
        let mismatched = String(repeating: "<e>", count: 10_000) + "</f>"
        #expect(failure(mismatched)?.detail == "closing tag </f> does not match the open element <e>")
    }

    @Test("a 10 MB attribute value is read whole in linear time (the reader has no limit of its own), with references too")
    func hugeAttribute() throws {
        let size = 10 * 1024 * 1024
        let plain = Array("<a v='".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: size) + Array("'/>".utf8)
        let sink = CountingSink()
        var reader = StrictXMLReader(plain)
        let seconds = try elapsedSeconds { try reader.read(into: sink) }
        #expect(sink.longestAttribute == size)
        #expect(seconds < 60, "a 10 MB attribute took \(seconds) s")

        // A million references: the decoding path, not the fast path.
        let references = Array("<a v='".utf8) + Array(String(repeating: "&amp;&#65;", count: 500_000).utf8) + Array("'/>".utf8)
        let decoded = CountingSink()
        var referenceReader = StrictXMLReader(references)
        let referenceSeconds = try elapsedSeconds { try referenceReader.read(into: decoded) }
        #expect(decoded.longestAttribute == 1_000_000)
        #expect(referenceSeconds < 60, "10⁶ references took \(referenceSeconds) s")

        // Unclosed at the end of 10 MB: the error points back at the value's opening quote.
        let unclosed = Array("<a v='".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let error = try #require(failure(bytes: unclosed))
        #expect(error.detail == "a malformed attribute (the value is not closed)" && error.line == 1 && error.column == 6)
    }

    @Test("2 MB of text in many nodes stays linear (each node searched for ']]>' on its own)")
    func manyTextNodes() throws {
        let node = "<p>" + String(repeating: "y", count: 1000) + "</p>"
        let xml = Array(("<a>" + String(repeating: node, count: 2048) + "</a>").utf8)
        let sink = CountingSink()
        var reader = StrictXMLReader(xml)
        let seconds = try elapsedSeconds { try reader.read(into: sink) }
        #expect(sink.starts == 2048 + 1 && sink.characterCount == 2048 * 1000)
        // Searching to the end of the document for every node would be 2048 × 2 MB: minutes.
        #expect(seconds < 60, "2 MB in 2048 text nodes took \(seconds) s")
    }
}
