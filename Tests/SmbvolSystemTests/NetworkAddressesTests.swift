import SmbvolSystem
import Testing

@Suite("Network addresses: one spelling, one byte form, literal or not")
struct NetworkAddressesTests {
    @Test("one canonical spelling per address", arguments: [
        ("10.0.0.5", "10.0.0.5"),
        ("::ffff:10.0.0.5", "10.0.0.5"),
        ("::FFFF:10.0.0.5", "10.0.0.5"),
        ("fe80::1%eth0", "fe80::1"),
        ("FE80:0:0:0:0:0:0:1", "fe80::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:DB8::0001", "2001:db8::1"),
        ("Host.Example", "host.example"),
        ("10.0.0.0/24", "10.0.0.0/24"),
    ])
    func canonical(input: String, expected: String) {
        #expect(NetworkAddresses.canonical(input) == expected)
    }

    @Test("IPv4 is mapped into IPv6 so both families compare in one space")
    func bytes() {
        #expect(NetworkAddresses.bytes("10.0.0.5") == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 10, 0, 0, 5])
        #expect(NetworkAddresses.bytes("::ffff:10.0.0.5") == NetworkAddresses.bytes("10.0.0.5"))
        #expect(NetworkAddresses.bytes("2001:db8::1") == [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        #expect(NetworkAddresses.bytes("host.example") == nil)
        #expect(NetworkAddresses.bytes("fe80::1%eth0") == nil)
    }

    @Test("only a literal address is a single address", arguments: [
        ("10.0.0.5", true), ("2001:db8::1", true), ("::ffff:10.0.0.5", true),
        ("10.0.0.0/24", false), ("10.0.0.1-9", false), ("fe80::1%eth0", false), ("host.example", false), ("", false),
    ])
    func singleAddress(input: String, expected: Bool) {
        #expect(NetworkAddresses.isSingleAddress(input) == expected)
    }

    @Test("IPv4 only in dotted-quad form")
    func ipv4() {
        #expect(NetworkAddresses.isIPv4("192.0.2.1"))
        #expect(!NetworkAddresses.isIPv4("::ffff:192.0.2.1"))
        #expect(!NetworkAddresses.isIPv4("192.0.2"))
    }

    @Test("a literal address resolves to itself, without a lookup")
    func resolveLiteral() {
        #expect(NetworkAddresses.resolve("127.0.0.1") == ["127.0.0.1"])
        #expect(NetworkAddresses.resolve("::1") == ["::1"])
    }

    @Test("interface addresses carry no scope id and include loopback")
    func interfaces() {
        let addresses = NetworkAddresses.interfaceAddresses()
        #expect(addresses.contains("127.0.0.1"))
        #expect(addresses.allSatisfy { !$0.contains("%") })
    }
}
