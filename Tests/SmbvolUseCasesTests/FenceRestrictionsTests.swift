import QumuloClient
import SmbvolUseCases
import Testing

@Suite("fence: host restriction rules")
struct FenceRestrictionsTests {
    static let all = NetworkPermission.allRights
    static let everyone = NetworkPermission(type: .allowed, addressRanges: [], rights: all)
    static let admin = NetworkPermission(type: .denied, addressRanges: ["198.51.100.0/24"], rights: ["WRITE"])
    static let host: Set<String> = ["203.0.113.7", "203.0.113.8"]

    @Test("fencing puts exactly one DENIED entry, all rights, single addresses, first; every other entry kept in order")
    func fencing() throws {
        let change = FenceRestrictions.fencing([Self.admin, Self.everyone], addresses: Self.host)
        let expected = [NetworkPermission(type: .denied, addressRanges: ["203.0.113.7", "203.0.113.8"], rights: Self.all), Self.admin, Self.everyone]
        #expect(change == .write(expected))
        #expect(FenceRestrictions.fencing(expected, addresses: Self.host) == .unchanged, "idempotent")
    }

    @Test("an empty list (everyone allowed) keeps admitting everyone else after the fence")
    func emptyList() {
        guard case .write(let entries) = FenceRestrictions.fencing([], addresses: ["203.0.113.7"]) else {
            Issue.record("expected a write")
            return
        }
        #expect(entries.count == 2)
        #expect(entries.last == Self.everyone)
        #expect(FenceRestrictions.admitsAnyone(entries))
        #expect(!FenceRestrictions.admitsAnyone([FenceRestrictions.entry(for: ["203.0.113.7"])]))
    }

    @Test("a fence below an ALLOWED entry is moved first; below other DENIED entries it is in force")
    func ordering() {
        let ours = FenceRestrictions.entry(for: Self.host)
        #expect(!FenceRestrictions.isInForce([Self.everyone, ours], addresses: Self.host))
        #expect(FenceRestrictions.fencing([Self.everyone, ours], addresses: Self.host) == .write([ours, Self.everyone]))
        let other = FenceRestrictions.entry(for: ["203.0.113.9"])
        #expect(FenceRestrictions.isInForce([other, ours, Self.everyone], addresses: Self.host))
        #expect(FenceRestrictions.fencing([other, ours, Self.everyone], addresses: Self.host) == .unchanged)
    }

    @Test("unfencing removes only the host's own entry: not another host's, not an admin's range, not a partial match")
    func unfencing() {
        let ours = FenceRestrictions.entry(for: Self.host)
        let other = FenceRestrictions.entry(for: ["203.0.113.9"])
        let partial = FenceRestrictions.entry(for: ["203.0.113.7"])
        let list = [ours, other, partial, Self.admin, Self.everyone]
        #expect(FenceRestrictions.unfencing(list, addresses: Self.host) == .write([other, partial, Self.admin, Self.everyone]))
        #expect(FenceRestrictions.unfencing([other, Self.everyone], addresses: Self.host) == .unchanged)
        let readOnly = NetworkPermission(type: .denied, addressRanges: ["203.0.113.7", "203.0.113.8"], rights: ["WRITE"])
        #expect(FenceRestrictions.unfencing([readOnly, Self.everyone], addresses: Self.host) == .unchanged, "fewer rights: not ours")
    }

    @Test("the fence shape: DENIED, every right (or ALL), single addresses only")
    func shape() {
        #expect(FenceRestrictions.isFenceShaped(FenceRestrictions.entry(for: ["2001:db8::1"])))
        #expect(FenceRestrictions.isFenceShaped(NetworkPermission(type: .denied, addressRanges: ["203.0.113.7"], rights: ["ALL"])))
        #expect(!FenceRestrictions.isFenceShaped(NetworkPermission(type: .denied, addressRanges: ["203.0.113.0/24"], rights: Self.all)))
        #expect(!FenceRestrictions.isFenceShaped(NetworkPermission(type: .denied, addressRanges: ["203.0.113.7-9"], rights: Self.all)))
        #expect(!FenceRestrictions.isFenceShaped(NetworkPermission(type: .denied, addressRanges: [], rights: Self.all)))
        #expect(!FenceRestrictions.isFenceShaped(NetworkPermission(type: .allowed, addressRanges: ["203.0.113.7"], rights: Self.all)))
    }

    @Test("addresses a fence refuses on their own: ranges, names, loopback, unspecified")
    func addressProblems() {
        #expect(FenceAddress.problem(with: "203.0.113.7") == nil)
        #expect(FenceAddress.problem(with: "2001:db8::7") == nil)
        for bad in ["203.0.113.0/24", "203.0.113.5-9", "host.example", "127.0.0.1", "::1", "0.0.0.0", "::", "*", ""] {
            #expect(FenceAddress.problem(with: bad) != nil, "\(bad)")
        }
    }
}

@Suite("fence agent options")
struct FenceAgentOptionsTests {
    @Test("stdin key=value lines as Pacemaker sends them; unknown keys named and ignored")
    func stdin() throws {
        let options = try FenceAgentOptions.parse(
            stdinText: "action=status\n# comment\n\nport=host-a\nnodename=node2\nconfig=/etc/smbvol/smbvol.toml\npcmk_host_list=x\nshare=vms,data\n")
        #expect(options.action == .status)
        #expect(options.plug == "host-a")
        #expect(options.shares == ["vms", "data"])
        #expect(options.ignored == ["pcmk_host_list"])
    }

    @Test("arguments: -o/-n, --key value, --key=value, key=value, validate-all, old name option=")
    func arguments() throws {
        let options = try FenceAgentOptions.parse(arguments: ["-o", "off", "-n", "host-b", "--address=203.0.113.7,203.0.113.8", "--verbose", "cluster=main"])
        #expect(options.action == .off)
        #expect(options.plug == "host-b")
        #expect(options.addresses == ["203.0.113.7", "203.0.113.8"])
        #expect(options.verbose)
        #expect(options.cluster == "main")
        #expect(try FenceAgentOptions.parse(arguments: ["--action", "validate-all"]).action == .validateAll)
        #expect(try FenceAgentOptions.parse(stdinText: "option=on\nplug=h").action == .on)
    }

    @Test("bad input: an unsupported action, a missing value, a stray word")
    func badInput() {
        #expect(throws: FenceAgentOptions.Problem.self) { try FenceAgentOptions.parse(arguments: ["-o", "reboot"]) }
        #expect(throws: FenceAgentOptions.Problem.self) { try FenceAgentOptions.parse(arguments: ["--plug"]) }
        #expect(throws: FenceAgentOptions.Problem.self) { try FenceAgentOptions.parse(arguments: ["status"]) }
        #expect(throws: FenceAgentOptions.Problem.self) { try FenceAgentOptions.parse(stdinText: "action off") }
    }

    @Test("metadata: the resource-agent element, plug obsoleting port, on announced as on_target automatic")
    func metadata() {
        let xml = FenceAgentMetadata.xml()
        #expect(xml.hasPrefix("<?xml version=\"1.0\" ?>\n<resource-agent name=\"fence_smbvol\" shortdesc=\""))
        #expect(xml.contains("<parameter name=\"plug\" unique=\"0\" required=\"1\" obsoletes=\"port\">"))
        #expect(xml.contains("<action name=\"on\" on_target=\"1\" automatic=\"1\"/>"))
        for action in ["off", "status", "list", "monitor", "metadata", "validate-all"] {
            #expect(xml.contains("<action name=\"\(action)\" />"), "\(action)")
        }
    }
}
