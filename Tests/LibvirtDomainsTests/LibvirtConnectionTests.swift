import Foundation
import LibvirtDomains
import Testing

@Suite("libvirt read-only connection (test driver)")
struct LibvirtConnectionTests {
    static func nodeFile() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-libvirt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/node.xml"
        try """
            <node xmlns:test="http://libvirt.org/schemas/domain/test/1.0">
              <domain type='test'>
                <name>web01</name>
                <uuid>11111111-2222-3333-4444-555555555555</uuid>
                <memory>65536</memory>
                <os><type>hvm</type></os>
                <devices>
                  <disk type='file' device='disk'><source file='/mnt/vms/web01.qcow2'/><target dev='vda'/></disk>
                </devices>
              </domain>
              <domain type='test'>
                <name>off01</name>
                <uuid>22222222-2222-3333-4444-555555555555</uuid>
                <memory>65536</memory>
                <os><type>hvm</type></os>
                <test:runstate>5</test:runstate>
              </domain>
              <domain type='test'>
                <name>crashed01</name>
                <uuid>33333333-2222-3333-4444-555555555555</uuid>
                <memory>65536</memory>
                <os><type>hvm</type></os>
                <on_crash>preserve</on_crash>
                <test:runstate>6</test:runstate>
              </domain>
            </node>
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("domain XML by name and by UUID")
    func domainXML() throws {
        let connection = try LibvirtConnection(readOnly: "test://" + Self.nodeFile())
        #expect(try connection.domainXML("web01").contains("/mnt/vms/web01.qcow2"))
        #expect(try connection.domainXML("11111111-2222-3333-4444-555555555555").contains("<name>web01</name>"))
    }

    @Test("every domain with its state")
    func list() throws {
        let connection = try LibvirtConnection(readOnly: "test://" + Self.nodeFile())
        let domains = try connection.listDomains()
        #expect(domains.map(\.name) == ["crashed01", "off01", "web01"])
        #expect(domains.map(\.state) == [.crashed, .shutoff, .running])
        // A crashed domain kept by on_crash=preserve has an id (qemu is alive): active.
        #expect(domains.map(\.isActive) == [true, false, true])
        #expect(domains.last?.uuid == "11111111-2222-3333-4444-555555555555")
    }

    @Test("a missing domain and an unreachable libvirt: one-line errors")
    func errors() throws {
        let connection = try LibvirtConnection(readOnly: "test://" + Self.nodeFile())
        #expect {
            try connection.domainXML("nosuch")
        } throws: { error in
            let text = "\(error)"
            return (error as? LibvirtError)?.isNoSuchDomain == true && text.contains("nosuch") && !text.contains("\n")
        }
        #expect {
            try LibvirtConnection(readOnly: "qemu+unix:///system?socket=/nonexistent/sock")
        } throws: { error in
            "\(error)".hasPrefix("libvirt virConnectOpenReadOnly") && !"\(error)".contains("\n")
        }
    }
}
