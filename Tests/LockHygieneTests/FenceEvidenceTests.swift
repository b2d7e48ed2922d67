import LockHygiene
import Testing

@Suite("dead by fence: the share's host restrictions as positive evidence")
struct FenceEvidenceTests {
    static let everyone = HostRestrictionFact(kind: .allowed, addressRanges: [], rights: ["READ", "WRITE", "CHANGE_PERMISSIONS"])
    static let fence = HostRestrictionFact(kind: .denied, addressRanges: ["203.0.113.7"], rights: ["READ", "WRITE", "CHANGE_PERMISSIONS"])

    @Test("every holder address denied and without a session: fenced")
    func fenced() {
        #expect(FenceEvidence.isDeadByFence(holderAddresses: ["203.0.113.7"], restrictions: [Self.fence, Self.everyone], sessionOriginators: ["10.0.0.1"]))
        #expect(FenceEvidence.reason == "fenced")
    }

    @Test("not fenced: a session left, one holder still allowed, no holder, restrictions unknown, the default list")
    func notFenced() {
        let list = [Self.fence, Self.everyone]
        #expect(!FenceEvidence.isDeadByFence(holderAddresses: ["203.0.113.7"], restrictions: list, sessionOriginators: ["203.0.113.7"]))
        #expect(!FenceEvidence.isDeadByFence(holderAddresses: ["203.0.113.7", "203.0.113.8"], restrictions: list, sessionOriginators: []))
        #expect(!FenceEvidence.isDeadByFence(holderAddresses: [], restrictions: list, sessionOriginators: []))
        #expect(!FenceEvidence.isDeadByFence(holderAddresses: ["203.0.113.7"], restrictions: nil, sessionOriginators: []))
        #expect(!FenceEvidence.isDeadByFence(holderAddresses: ["203.0.113.7"], restrictions: [], sessionOriginators: []))
    }

    @Test("order matters: an ALLOWED entry above the DENIED one wins; a DENIED READ-only entry does not stop writes")
    func ordering() {
        let allowFirst = HostRestrictionFact(kind: .allowed, addressRanges: ["203.0.113.0/24"], rights: ["ALL"])
        #expect(!FenceEvidence.deniesWrite([allowFirst, Self.fence], address: "203.0.113.7"))
        let readOnly = HostRestrictionFact(kind: .denied, addressRanges: ["203.0.113.7"], rights: ["READ"])
        #expect(!FenceEvidence.deniesWrite([readOnly, Self.everyone], address: "203.0.113.7"))
        #expect(FenceEvidence.deniesWrite([Self.fence, Self.everyone], address: "203.0.113.7"))
    }

    @Test("ranges: CIDR, dash (short and full), IPv6; unnamed addresses are denied once a list is set")
    func ranges() {
        let blocks = [
            HostRestrictionFact(kind: .denied, addressRanges: ["198.51.100.0/28", "203.0.113.5-9", "2001:db8::/64"], rights: ["WRITE"]),
            HostRestrictionFact(kind: .allowed, addressRanges: ["198.51.100.0/24", "203.0.113.0-203.0.113.255", "2001:db8::/32"], rights: ["ALL"]),
        ]
        #expect(FenceEvidence.deniesWrite(blocks, address: "198.51.100.15"))
        #expect(!FenceEvidence.deniesWrite(blocks, address: "198.51.100.16"))
        #expect(FenceEvidence.deniesWrite(blocks, address: "203.0.113.9"))
        #expect(!FenceEvidence.deniesWrite(blocks, address: "203.0.113.10"))
        #expect(FenceEvidence.deniesWrite(blocks, address: "2001:db8::42"))
        #expect(!FenceEvidence.deniesWrite(blocks, address: "2001:db8:1::42"))
        #expect(FenceEvidence.deniesWrite(blocks, address: "10.0.0.1"), "no entry names it")
        let garbled = [HostRestrictionFact(kind: .denied, addressRanges: ["not-an-address"], rights: ["ALL"]), Self.everyone]
        #expect(!FenceEvidence.deniesWrite(garbled, address: "203.0.113.7"), "an entry we cannot read denies nobody")
    }
}

@Suite("dead by fence: an ALLOWED entry the rule cannot read is no fence")
struct FenceEvidenceUnreadableAllowTests {
    static let denyEveryone = HostRestrictionFact(kind: .denied, addressRanges: [], rights: ["ALL"])

    /// The cluster (qumulo-sim's model: whitespace trimmed, octets read as numbers) lets
    /// 203.0.113.7 write through these entries; the rule could not read them, skipped the ALLOWED
    /// entry and fell through to the DENIED one (or to "no entry names it"): a live holder
    /// "fenced", its handle closed. An ALLOWED entry that may name the address makes it unknown.
    @Test("an ALLOWED entry the rule cannot read, above a DENIED one or alone, does not deny writing", arguments: [
        " 203.0.113.7", "203.0.113.7 ", "203.000.113.007", "*",
    ])
    func unreadableAllowed(range: String) {
        let allow = HostRestrictionFact(kind: .allowed, addressRanges: [range], rights: ["READ", "WRITE", "CHANGE_PERMISSIONS"])
        #expect(!FenceEvidence.deniesWrite([allow, Self.denyEveryone], address: "203.0.113.7"))
        #expect(!FenceEvidence.deniesWrite([allow], address: "203.0.113.7"))
        #expect(!FenceEvidence.isDeadByFence(holderAddresses: ["203.0.113.7"], restrictions: [allow], sessionOriginators: []))
        // A DENIED entry above it still decides: the address is denied before the unknown entry.
        let fence = HostRestrictionFact(kind: .denied, addressRanges: ["203.0.113.7"], rights: ["ALL"])
        #expect(FenceEvidence.deniesWrite([fence, allow], address: "203.0.113.7"))
    }

    @Test("a holder address the rule cannot read is denied only by an entry for every address")
    func unreadableHolder() {
        let allow = HostRestrictionFact(kind: .allowed, addressRanges: ["203.0.113.0/24"], rights: ["ALL"])
        #expect(!FenceEvidence.deniesWrite([allow], address: "kvm-b.example.net"))
        #expect(FenceEvidence.deniesWrite([Self.denyEveryone, allow], address: "kvm-b.example.net"))
    }
}
