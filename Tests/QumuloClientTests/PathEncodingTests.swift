import QumuloClient
import SmbvolTestSupport
import Testing

@Suite("Path encoding: one URL segment, exactly as the reference says")
struct PathEncodingTests {
    @Test("the reference example", arguments: [
        ("/vms/a b+c%.qcow2", "%2Fvms%2Fa%20b%2Bc%25.qcow2"),
        ("/vms/odd #%+.qcow2", "%2Fvms%2Fodd%20%23%25%2B.qcow2"),
        ("/plain_name-1.2~x", "%2Fplain_name-1.2~x"),
        ("/vms/ünïcode.qcow2", "%2Fvms%2F%C3%BCn%C3%AFcode.qcow2"),
        ("/a/b/", "%2Fa%2Fb%2F"),
        ("/q?x=1&y", "%2Fq%3Fx%3D1%26y"),
    ])
    func encodes(path: String, expected: String) throws {
        #expect(try PathEncoding.encodeSegment(path) == expected)
    }

    @Test("relative paths are rejected client-side")
    func rejectsRelative() {
        #expect(throws: PathEncoding.Failure.notAbsolute("vms/a.qcow2")) { try PathEncoding.encodeSegment("vms/a.qcow2") }
    }

    @Test("attributes request puts the encoded path in one segment")
    func attributesPath() throws {
        let transport = ScriptedTransport { _, _ in
            json(#"{"path": "/vms/a b.qcow2", "name": "a b.qcow2", "type": "FS_FILE_TYPE_FILE", "id": "1002", "file_number": "1002"}"#)
        }
        let attributes = try makeClient(transport).fileAttributes(path: "/vms/a b.qcow2")
        #expect(transport.paths == ["/v1/files/%2Fvms%2Fa%20b.qcow2/info/attributes"])
        #expect(attributes.fileNumber == "1002")
    }
}
