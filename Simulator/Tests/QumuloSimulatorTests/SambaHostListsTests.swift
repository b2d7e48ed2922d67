@testable import QumuloSimulator
import Testing

/// The Samba backend enforces share host restrictions as smbd's `hosts allow` / `hosts deny`:
/// per connection, from the safe side (an address that may not write cannot connect).
@Suite("Samba host lists from network_permissions")
struct SambaHostListsTests {
    func entry(_ type: NetworkPermission.Kind, _ ranges: [String], _ rights: [String] = NetworkPermission.allRights) -> NetworkPermission {
        NetworkPermission(type: type, addressRanges: ranges, rights: rights)
    }

    @Test("the default and an empty list restrict nothing")
    func defaults() {
        #expect(SimulatorState.sambaHostLists(nil) == (nil, nil))
        #expect(SimulatorState.sambaHostLists([]) == (nil, nil))
        #expect(SimulatorState.sambaHostLists([.allowEveryone]) == (nil, nil))
    }

    @Test("a fence (DENIED first, everyone else allowed) is hosts deny of exactly its addresses")
    func fence() {
        let lists = SimulatorState.sambaHostLists([entry(.denied, ["203.0.113.12", "203.0.113.13"]), .allowEveryone])
        #expect(lists.allow == nil)
        #expect(lists.deny == "203.0.113.12 203.0.113.13")
    }

    @Test("allowed ranges with a denied address: hosts allow A EXCEPT D; dash ranges become CIDR blocks")
    func allowExcept() {
        let lists = SimulatorState.sambaHostLists([
            entry(.denied, ["10.0.0.7"]), entry(.allowed, ["10.0.0.0/24", "10.1.0.5-10.1.0.12"]),
        ])
        #expect(lists.allow == "10.0.0.0/24 10.1.0.5 10.1.0.6/31 10.1.0.8/30 10.1.0.12 EXCEPT 10.0.0.7")
        #expect(lists.deny == nil)
    }

    @Test("only DENIED entries, or no entry granting WRITE: nobody connects")
    func nobody() {
        #expect(SimulatorState.sambaHostLists([entry(.denied, ["10.0.0.7"])]) == (nil, "ALL"))
        #expect(SimulatorState.sambaHostLists([entry(.allowed, [], ["READ"])]) == (nil, "ALL"))
        #expect(SimulatorState.sambaHostLists([entry(.denied, []), .allowEveryone]) == (nil, "ALL"))
    }

    @Test("a DENIED WRITE entry keeps its address off the share (smbd has no per-host read-only)")
    func denyWrite() {
        let lists = SimulatorState.sambaHostLists([entry(.denied, ["10.0.0.7"], ["WRITE"]), .allowEveryone])
        #expect(lists.deny == "10.0.0.7")
    }
}
