import DomainXML
import Testing

/// What the reader must refuse, and what must stay linear.
@Suite("Domain XML hardening")
struct HardeningXMLTests {
    func domain(_ inner: String = "", rootAttributes: String = "") -> String {
        "<domain type='kvm' \(rootAttributes)><name>web01</name><uuid>3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8</uuid>\(inner)</domain>"
    }

    @Test("a repeated <uuid> or <name> is refused, not last-wins")
    func repeatedIdentity() {
        #expect(throws: DomainXMLError.repeatedElement("<uuid>")) {
            try DomainXMLParser().parse(domain("<uuid>0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d</uuid>"))
        }
        #expect(throws: DomainXMLError.repeatedElement("<name>")) { try DomainXMLParser().parse(domain("<name>other</name>")) }
    }

    @Test("invalid UTF-8 is an error at its position, never replaced")
    func invalidUTF8() {
        var bytes = Array(domain().utf8)
        if let index = bytes.firstIndex(of: UInt8(ascii: "w")) { bytes[index] = 0xFF }
        #expect(throws: DomainXMLError.self) { try DomainXMLParser().parse(bytes: bytes) }
    }

    @Test("100 000 distinct attributes parse; a duplicate among them is still found")
    func manyAttributes() throws {
        let attributes = (0..<100_000).map { "a\($0)='x'" }.joined(separator: " ")
        #expect(try DomainXMLParser().parse(domain(rootAttributes: attributes)).name == "web01")
        #expect(throws: DomainXMLError.self) { try DomainXMLParser().parse(domain(rootAttributes: attributes + " a5='y'")) }
    }

    @Test("deeply nested elements each declaring a prefix: scopes pop correctly, undeclared prefixes still fail")
    func nestedNamespaces() throws {
        let depth = 20_000
        let open = (0..<depth).map { "<p\($0):e xmlns:p\($0)='urn:\($0)'>" }.joined()
        let close = (0..<depth).reversed().map { "</p\($0):e>" }.joined()
        #expect(try DomainXMLParser().parse(domain("<metadata>" + open + close + "</metadata>")).uuid.count == 36)
        // p0 is out of scope after its element closed.
        #expect(throws: DomainXMLError.self) {
            try DomainXMLParser().parse(domain("<metadata><p0:e xmlns:p0='urn:0'/><p0:f/></metadata>"))
        }
    }

    @Test("hints are looked up per disk by target, then by source")
    func hints() throws {
        let xml = domain(
            "<metadata><smbvol:volumes xmlns:smbvol='https://smbvol.example/xmlns/volumes/1'>"
                + "<smbvol:volume target='vdb' share='a'/><smbvol:volume source='/x/vdc.qcow2' share='b'/><smbvol:volume target='vdb' share='c'/>"
                + "</smbvol:volumes></metadata><devices><disk type='file'><source file='/x/vdb.qcow2'/><target dev='vdb'/></disk>"
                + "<disk type='file'><source file='/x/vdc.qcow2'/><target dev='vdc'/></disk></devices>")
        let parsed = try DomainXMLParser().parse(xml)
        #expect(parsed.disks.map { parsed.hintedShare(for: $0) } == ["a", "b"])
    }
}
