import LockHygiene
import SmbvolSystem
import Testing

/// The kernel's view of this host's handles: a local process holding the image open makes a
/// handle from this host's address live, whatever the sessions and the records say — and its
/// absence never makes anything live that the other rules call stale.
@Suite("local openers (the kernel's view) decide this host's handles")
struct LocalOpenerDecisionTests {
    let qemu = LocalFileOpener(pid: 4242, command: "qemu-system-x86", guestName: "web01")

    func local(idle: Double?, openers: [LocalFileOpener], otherDomains: [String] = []) -> ImageEvidence {
        var facts = evidence(
            handles: [handle("7.1.1")], grants: [thisHost],
            sessions: idle.map { [SessionFacts(originator: thisHost, ownerAuthId: svc, idleSeconds: $0)] } ?? [], otherDomains: otherDomains)
        facts.localOpeners = openers
        return facts
    }

    @Test("a local opener makes the handle live: the start is refused, naming pid, command and guest", arguments: [5.0, 900.0, nil])
    func openerRefusesStart(idle: Double?) {
        let result = LockHygieneDecider(policy: start).decide(local(idle: idle, openers: [qemu]))
        #expect(result.verdict == .refuse)
        #expect(result.locationsToClose.isEmpty)
        let reason = result.decisions.first?.reason ?? ""
        #expect(reason.contains("pid 4242 (qemu-system-x86, guest web01)"), "\(reason)")
    }

    @Test("incoming migration keeps a handle a local process holds")
    func openerKeptOnMigration() {
        let result = LockHygieneDecider(policy: migration).decide(local(idle: 5, openers: [qemu]))
        #expect(result.decisions.map(\.action) == [.keep])
    }

    @Test("no local opener and no other local domain: the leftover is closed (records and kernel agree it is gone)")
    func leftoverStillCloses() {
        let result = LockHygieneDecider(policy: start).decide(local(idle: 5, openers: []))
        #expect(result.locationsToClose == ["7.1.1"])
        #expect(result.decisions.first?.reason.contains("no local process has the image open") == true)
    }

    @Test("records remain an extra reason for liveness without a local opener")
    func recordsStillCount() {
        let result = LockHygieneDecider(policy: start).decide(local(idle: 5, openers: [], otherDomains: ["web02"]))
        #expect(result.verdict == .refuse)
    }

    /// A local process has F open, yet no holder address is this host's: this host's own SMB
    /// handle on F is listed under an address smbvol does not know (NAT, a VIP, an address added
    /// since, `local_addresses` incomplete). The session rules would call it a dead foreign
    /// host's handle; the kernel wins in the direction of liveness: refuse, never close.
    /// The fence rule ran before the kernel's view: a holder smbvol takes for another host, denied
    /// by the share's restrictions with no session left, was "fenced" and closed even though a
    /// local process has the image open (this host behind an address smbvol does not know, e.g.
    /// a NAT address a fence of another host behind it denied). The kernel wins here too.
    @Test("a local opener and a holder the share's restrictions deny: still live (the kernel wins over the fence rule)")
    func openerBeatsFenceRule() {
        var facts = evidence(handles: [handle("7.1.2")], grants: [deadHost])
        facts.localOpeners = [qemu]
        facts.shareRestrictions = [
            HostRestrictionFact(kind: .denied, addressRanges: [deadHost], rights: ["ALL"]),
            HostRestrictionFact(kind: .allowed, addressRanges: [], rights: ["ALL"]),
        ]
        let result = LockHygieneDecider(policy: start).decide(facts)
        #expect(result.locationsToClose.isEmpty, "\(result.decisions)")
        #expect(result.verdict == .refuse)
    }

    @Test("a local opener with no holder address of this host's: the cluster sees this host by an unknown address, refuse")
    func openerWithUnknownLocalAddress() {
        var facts = evidence(handles: [handle("7.1.2")], grants: [deadHost])
        facts.localOpeners = [qemu]
        let result = LockHygieneDecider(policy: start).decide(facts)
        #expect(result.locationsToClose.isEmpty)
        #expect(result.verdict == .refuse)
        #expect(result.decisions.first?.reason.contains("not one of this host's addresses") == true, "\(result.decisions)")
    }

    @Test("local open files that could not be read: nothing is closed")
    func unknownOpenersCloseNothing() {
        var facts = local(idle: 5, openers: [])
        facts.incompleteListings = ["local open files (not root)"]
        let result = LockHygieneDecider(policy: start).decide(facts)
        #expect(result.locationsToClose.isEmpty)
        #expect(result.decisions.map(\.action) == [.report])
    }
}
