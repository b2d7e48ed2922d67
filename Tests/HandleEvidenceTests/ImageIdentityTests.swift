import HandleEvidence
import SmbvolShares
import Testing

/// The spelling of a path is not an identity.
@Suite("Image identity")
struct ImageIdentityTests {
    @Test("canonical cluster paths", arguments: [
        ("/vmstore/./web01//disk0.qcow2", "/vmstore/web01/disk0.qcow2"),
        ("/vmstore/web01/../web01/disk0.qcow2", "/vmstore/web01/disk0.qcow2"),
        ("//vmstore/", "/vmstore"),
        ("/", "/"),
    ])
    func canonical(_ pair: (String, String)) {
        #expect(ImageIdentity.canonicalPath(pair.0) == pair.1)
    }

    @Test("file numbers compare as numbers, never loosely")
    func numbers() {
        #expect(ImageIdentity.sameNumber("42", "42"))
        #expect(ImageIdentity.sameNumber("042", "42"))
        #expect(!ImageIdentity.sameNumber("42", "43"))
        #expect(!ImageIdentity.sameNumber("", "0"))
        #expect(!ImageIdentity.sameNumber("４２", "42"))
    }
}
