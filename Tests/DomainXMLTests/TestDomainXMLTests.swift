import DomainXML
import SmbvolTestSupport
import Testing

/// The tests' domain builder writes what the real parser reads.
@Suite("TestDomainXML (test support) against the real parser")
struct TestDomainXMLTests {
    @Test("name, UUID, disks with their flags and backing chain parse as built")
    func parses() throws {
        var domain = TestDomainXML(name: "web & co", uuid: "11111111-2222-3333-4444-555555555555")
        domain.disks = [
            .init(target: "vda", source: "/srv/vms/a'b.qcow2", backingChain: ["/srv/vms/base.qcow2", "/srv/vms/root.raw"]),
            .init(target: "vdb", source: "/srv/vms/shared.raw", format: "raw", shareable: true),
            .cdrom(),
        ]
        let parsed = try DomainXMLParser().parse(domain.xml)
        #expect(parsed.name == "web & co")
        #expect(parsed.uuid == "11111111-2222-3333-4444-555555555555")
        let vda = try #require(parsed.disks.first { $0.target == "vda" })
        #expect(vda.sourceFile == "/srv/vms/a'b.qcow2")
        #expect(vda.backingChain.map(\.sourceFile) == ["/srv/vms/base.qcow2", "/srv/vms/root.raw"])
        #expect(parsed.disks.first { $0.target == "vdb" }?.shareable == true)
    }

    @Test("line breaks and tabs in a name or a path come back exactly (written as character references)")
    func lineBreaks() throws {
        let domain = TestDomainXML(name: "web01\r\nforged\tline", image: "/srv/odd dir/disk\n0.qcow2")
        #expect(domain.xml.contains("&#13;&#10;") && domain.xml.contains("disk&#10;0"))
        let parsed = try DomainXMLParser().parse(domain.xml)
        #expect(parsed.name == "web01\r\nforged\tline")
        #expect(parsed.disks.first?.sourceFile == "/srv/odd dir/disk\n0.qcow2")
    }
}
