@testable import QumuloClient
import Testing

@Suite("The cluster-wide listing's grant index")
struct GrantAddressIndexTests {
    @Test("addresses per file, interned, deduplicated and sorted; canonical numbers and other ids compared as written")
    func lookups() {
        var index = GrantAddressIndex()
        #expect(index.isEmpty)
        index.insert("10.0.0.9", forFile: "42")
        index.insert("10.0.0.2", forFile: "42")
        index.insert("10.0.0.9", forFile: "42")
        index.insert("10.0.0.9", forFile: "7")
        index.insert("fe80::1", forFile: "042")
        index.insert("10.0.0.3", forFile: "file-x")
        #expect(index.addresses(ofFile: "42") == ["10.0.0.2", "10.0.0.9"])
        #expect(index.addresses(ofFile: "7") == ["10.0.0.9"])
        // "042" is not "42": a string id keeps string equality, as the listing always had.
        #expect(index.addresses(ofFile: "042") == ["fe80::1"])
        #expect(index.addresses(ofFile: "file-x") == ["10.0.0.3"])
        #expect(index.addresses(ofFile: "43").isEmpty)
        #expect(index.addresses(ofFile: "18446744073709551616").isEmpty)
        index.removeAll()
        #expect(index.isEmpty)
        #expect(index.addresses(ofFile: "42").isEmpty)
    }
}
