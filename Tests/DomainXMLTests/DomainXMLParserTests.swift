import DomainXML
import Testing

@Suite("Domain XML")
struct DomainXMLParserTests {
    @Test("live XML: name, lowercased UUID, only file disks, in order")
    func liveDomain() throws {
        let domain = try DomainXMLParser().parse(Fixtures.liveDomain)
        #expect(domain.name == "web01")
        #expect(domain.uuid == "3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8")
        #expect(domain.disks.map(\.target) == ["vda", "vdb", "sda", "sdb"])
    }

    @Test("the top disk: driver, cache and its whole backing chain, nearest first")
    func backingChain() throws {
        let vda = try #require(try DomainXMLParser().parse(Fixtures.liveDomain).disks.first)
        #expect(vda.device == "disk")
        #expect(vda.bus == "virtio")
        #expect(vda.driverType == "qcow2")
        #expect(vda.driverCache == "none")
        #expect(vda.sourceFile == "/var/lib/smbvol/mnt/qumulo1_vmstore-5c1e2a9f/web01/root.qcow2")
        #expect(
            vda.backingChain == [
                BackingImage(type: "file", format: "qcow2", sourceFile: "/var/lib/smbvol/mnt/qumulo1_vmstore-5c1e2a9f/base/debian12.qcow2"),
                BackingImage(type: "file", format: "raw", sourceFile: "/var/lib/smbvol/mnt/qumulo1_vmstore-5c1e2a9f/base/debian12-raw.img"),
            ])
        #expect(vda.imageFiles.count == 3)
        #expect(!vda.readonly && !vda.shareable)
    }

    @Test("shareable, readonly, entities in paths and a cdrom without media")
    func flags() throws {
        let disks = try DomainXMLParser().parse(Fixtures.liveDomain).disks
        #expect(disks[1].shareable)
        #expect(disks[1].sourceFile == "/var/lib/smbvol/mnt/qumulo1_vmstore-5c1e2a9f/web01/data & logs.img")
        #expect(disks[1].backingChain.isEmpty)
        #expect(disks[1].driverCache == "directsync")
        #expect(disks[2].readonly && disks[2].device == "cdrom")
        #expect(disks[3].sourceFile == nil)
        #expect(disks[3].imageFiles.isEmpty)
    }

    @Test("smbvol metadata names shares by target or by source; other namespaces ignored")
    func metadata() throws {
        let domain = try DomainXMLParser().parse(Fixtures.liveDomain)
        #expect(domain.volumeHints.count == 2)
        #expect(domain.hintedShare(for: domain.disks[1]) == "vmstore")
        #expect(domain.hintedShare(for: domain.disks[2]) == "isos")
        #expect(domain.hintedShare(for: domain.disks[0]) == nil)
    }

    @Test("an inactive definition with an XML declaration and comment")
    func inactive() throws {
        let domain = try DomainXMLParser().parse(Fixtures.inactiveMinimal)
        #expect(domain.name == "tiny")
        #expect(domain.disks == [DomainDisk(target: "vda", bus: "virtio", sourceFile: "/mnt/vms/tiny.qcow2", driverType: "qcow2", driverCache: "none")])
        #expect(domain.volumeHints.isEmpty)
    }

    @Test("malformed XML: one line with line and column")
    func malformed() {
        #expect {
            try DomainXMLParser().parse(Fixtures.mismatchedTag)
        } throws: { error in
            guard case .malformed(let line, let column, _) = error as? DomainXMLError else { return false }
            let text = "\(error)"
            return line == 7 && column > 0 && !text.contains("\n") && text.contains("line 7")
        }
    }

    @Test("not a domain, no uuid, empty input")
    func wrongDocuments() {
        #expect(throws: DomainXMLError.notADomain(root: "network")) {
            try DomainXMLParser().parse("<network><name>default</name></network>")
        }
        #expect(throws: DomainXMLError.missingElement("<uuid>")) {
            try DomainXMLParser().parse("<domain><name>x</name></domain>")
        }
        #expect(throws: DomainXMLError.self) { try DomainXMLParser().parse("") }
    }
}
