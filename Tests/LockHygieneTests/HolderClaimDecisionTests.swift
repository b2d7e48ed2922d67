import LockHygiene
import Testing

/// docs/stale-handle-policy.md, "Holder claims": another host's fresh claim refuses a start even
/// with no handle on the image; a stale or fenced claim is taken over (a takeover record names
/// its host); a migration is never refused and takes nothing over by claim; claims never close.
func claimed(
    host: String = "host-b", addresses: [String] = [remoteHost], age: Double = 4, domain: String = "web01", dropped: [String] = []
) -> HolderClaimObservation {
    .claim(
        HolderClaimFact(
            hostID: host, hostname: "kvm-b", addresses: addresses, domainName: domain, domainUUID: "11111111-2222-3333-4444-555555555555",
            writtenAt: "2026-12-01T19:50:00Z", ageSeconds: age, file: ".smbvol/images/k/\(host).json", droppedEntries: dropped))
}

func withClaims(_ base: ImageEvidence, _ claims: [HolderClaimObservation], localHostID: String? = "host-a") -> ImageEvidence {
    var evidence = base
    evidence.claims = claims
    evidence.localHostID = localHostID
    return evidence
}

let noHandles = evidence(handles: [], grants: [])

@Suite("Holder claims: the decision rule")
struct HolderClaimDecisionTests {
    @Test("another host's fresh claim, no handle on the image: the start is refused naming the host, its domain and the claim's age")
    func freshClaimRefuses() {
        let decided = LockHygieneDecider(policy: start).decide(withClaims(noHandles, [claimed()]))
        #expect(decided.verdict == .refuse)
        #expect(decided.refusingClaims.count == 1)
        for fragment in ["kvm-b (host-b, 10.0.0.2)", "domain web01", "written 4 s ago", "nothing closed"] {
            #expect(decided.summary.contains(fragment), "\(fragment) in \(decided.summary)")
        }
        #expect(decided.claimTakeovers.isEmpty)
    }

    @Test("a fresh claim refuses even where the handle rules would close: nothing is closed")
    func freshClaimKeepsStaleHandles() {
        let decided = LockHygieneDecider(policy: start).decide(withClaims(deadRemote, [claimed(addresses: ["203.0.113.9"])]))
        #expect(decided.verdict == .refuse)
        #expect(decided.locationsToClose.isEmpty)
        #expect(decided.decisions.allSatisfy { $0.action != .close })
    }

    @Test("claim at exactly heartbeat_fresh_seconds, or dated in the future: fresh")
    func freshnessEdges() {
        #expect(LockHygieneDecider(policy: start).decide(withClaims(noHandles, [claimed(age: 30)])).verdict == .refuse)
        let future = LockHygieneDecider(policy: start).decide(withClaims(noHandles, [claimed(age: -600)]))
        #expect(future.verdict == .refuse)
        #expect(future.summary.contains("in the future"))
    }

    @Test("a stale claim does not block; the start takes it over (a takeover record names its host)")
    func staleClaimTakenOver() {
        let decided = LockHygieneDecider(policy: start).decide(withClaims(noHandles, [claimed(age: 31)]))
        #expect(decided.verdict == .proceed)
        #expect(decided.claimTakeovers.map(\.hostID) == ["host-b"])
        #expect(decided.claims.first?.status == .stale)
        // Beside stale handles: those are closed as before, the claim taken over too.
        let withHandle = LockHygieneDecider(policy: start).decide(withClaims(deadRemote, [claimed(age: 300)]))
        #expect(withHandle.locationsToClose == ["2.1.2"])
        #expect(withHandle.claimTakeovers.map(\.hostID) == ["host-b"])
    }

    @Test("a fresh claim whose every address the share denies writing: fenced, taken over; one allowed address: alive")
    func fencedClaim() {
        var fenced = withClaims(noHandles, [claimed()])
        fenced.shareRestrictions = [HostRestrictionFact(kind: .denied, addressRanges: [remoteHost], rights: ["ALL"]), HostRestrictionFact(kind: .allowed, addressRanges: [], rights: ["ALL"])]
        let decided = LockHygieneDecider(policy: start).decide(fenced)
        #expect(decided.verdict == .proceed)
        #expect(decided.claims.first?.status == .fenced)
        #expect(decided.claimTakeovers.map(\.hostID) == ["host-b"])
        var partly = withClaims(noHandles, [claimed(addresses: [remoteHost, "10.0.0.9"])])
        partly.shareRestrictions = fenced.shareRestrictions
        #expect(LockHygieneDecider(policy: start).decide(partly).verdict == .refuse)
        // Restrictions not read: no fence.
        #expect(LockHygieneDecider(policy: start).decide(withClaims(noHandles, [claimed()])).verdict == .refuse)
    }

    @Test("this host's own claim is ignored; one with its host_id listing another address is a HOST_ID COLLISION and counts")
    func ownClaim() {
        let own = LockHygieneDecider(policy: start).decide(withClaims(noHandles, [claimed(host: "host-a", addresses: [thisHost])]))
        #expect(own.verdict == .proceed)
        #expect(own.claims.first?.status == .ignored)
        #expect(own.claims.first?.deservesWarning == false)
        #expect(own.claimTakeovers.isEmpty)
        let clone = LockHygieneDecider(policy: start).decide(withClaims(noHandles, [claimed(host: "host-a", addresses: ["10.0.0.7"])]))
        #expect(clone.verdict == .refuse)
        #expect(clone.claims.first?.collision == true)
        #expect(clone.summary.contains("HOST_ID COLLISION"))
        // Another host_id naming only this host's addresses: ignored with a warning (the local rules decide).
        let forged = LockHygieneDecider(policy: start).decide(withClaims(noHandles, [claimed(host: "host-z", addresses: [thisHost])]))
        #expect(forged.verdict == .proceed)
        #expect(forged.claims.first?.status == .ignored)
        #expect(forged.claims.first?.deservesWarning == true)
        #expect(forged.claimTakeovers.isEmpty)
    }

    @Test("an unusable claim file is ignored with a warning; the rest decide")
    func unusable() {
        let decided = LockHygieneDecider(policy: start).decide(withClaims(noHandles, [.unusable(file: ".smbvol/images/k/x.json", reason: "malformed")]))
        #expect(decided.verdict == .proceed)
        #expect(decided.claims.first?.status == .ignored)
        #expect(decided.claims.first?.deservesWarning == true)
    }

    @Test("incoming migration: a fresh claim (the source's) never refuses; nothing is taken over by claim")
    func incomingMigration() {
        let fresh = LockHygieneDecider(policy: migration).decide(withClaims(noHandles, [claimed()]))
        #expect(fresh.verdict == .proceed)
        #expect(fresh.claimTakeovers.isEmpty)
        let stale = LockHygieneDecider(policy: migration).decide(withClaims(noHandles, [claimed(age: 300)]))
        #expect(stale.claimTakeovers.isEmpty)
    }

    @Test("--force: a fresh claim does not refuse; it is taken over like a stale one")
    func forced() {
        let decided = LockHygieneDecider(policy: forcedStart).decide(withClaims(noHandles, [claimed()]))
        #expect(decided.verdict == .proceed)
        #expect(decided.claimTakeovers.map(\.hostID) == ["host-b"])
    }

    @Test("shareable and read-only disks: claims do not apply")
    func sharedDisks() {
        let decided = LockHygieneDecider(policy: start).decide(withClaims(noHandles, [claimed()]), disk: DiskAccess(shareable: true))
        #expect(decided.verdict == .proceed)
        #expect(decided.claims.isEmpty)
    }

    @Test("a domain refused by a claim on one disk takes nothing over on the others")
    func domainRefusal() {
        let refused = LockHygieneDecider(policy: start).decide(withClaims(noHandles, [claimed()]))
        let other = LockHygieneDecider(policy: start).decide(withClaims(deadRemote, [claimed(host: "host-c", age: 300)]))
        let combined = LockHygieneDecider.applyingDomainRefusal([refused, other])
        #expect(combined[1].claimTakeovers.isEmpty)
        #expect(combined[1].locationsToClose.isEmpty)
    }

    @Test("claims not all read (a crowded or unlistable claim directory, an unreadable claim file), no handle: the start is refused, nothing closed; --force proceeds; a migration proceeds")
    func unreadClaimsRefuse() {
        let unread = HolderClaimObservation.unread(file: ".smbvol/images/k", reason: "3 older claim file(s) not read (only the newest 32 are)")
        let decided = LockHygieneDecider(policy: start).decide(withClaims(noHandles, [unread]))
        #expect(decided.verdict == .refuse)
        #expect(decided.refusingClaims.map(\.status) == [.unread])
        #expect(decided.summary.contains("not all read") && decided.summary.contains("nothing closed"), "\(decided.summary)")
        #expect(decided.claims.first?.deservesWarning == true)
        // Beside stale handles: nothing closed.
        let withHandle = LockHygieneDecider(policy: start).decide(withClaims(deadRemote, [unread]))
        #expect(withHandle.verdict == .refuse)
        #expect(withHandle.locationsToClose.isEmpty)
        // Beside a stale claim: nothing is taken over either.
        let beside = LockHygieneDecider(policy: start).decide(withClaims(noHandles, [unread, claimed(age: 300)]))
        #expect(beside.verdict == .refuse)
        #expect(beside.claimTakeovers.isEmpty)
        let forced = LockHygieneDecider(policy: forcedStart).decide(withClaims(noHandles, [unread, claimed(age: 300)]))
        #expect(forced.verdict == .proceed)
        #expect(forced.claimTakeovers.map(\.hostID) == ["host-b"])
        #expect(LockHygieneDecider(policy: migration).decide(withClaims(noHandles, [unread])).verdict == .proceed)
    }
}
