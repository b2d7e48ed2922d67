import HandleEvidence
import Testing

@Suite("Client addresses compare by what they name, not how they are written")
struct ClientAddressTests {
    @Test("one spelling per address", arguments: [
        ("10.0.0.5", "10.0.0.5"),
        ("::ffff:10.0.0.5", "10.0.0.5"),
        ("::FFFF:10.0.0.5", "10.0.0.5"),
        ("fe80::1%eth0", "fe80::1"),
        ("FE80:0:0:0:0:0:0:1", "fe80::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("Host.Example", "host.example"),
    ])
    func canonical(input: String, expected: String) {
        #expect(ClientAddress.canonical(input) == expected)
    }
}
