import LockHygiene
import Testing

/// The decision table's rows with heartbeat evidence (docs/stale-handle-policy.md, "Classification of one handle", rule 5):
/// a fresh record of another host makes its address alive; nothing else changes a decision.
func beating(
    _ address: String = remoteHost, host: String = "host-b", age: Double = 4, domains: [String] = ["web01"], lists: [String]? = nil,
    dropped: [String] = []
) -> HeartbeatObservation {
    .record(
        HeartbeatRecordFact(
            address: address, hostID: host, hostname: "kvm-b", writtenAt: "2026-12-01T19:50:00Z", ageSeconds: age, domainsOnImage: domains,
            recordAddresses: lists, droppedEntries: dropped))
}

func withHeartbeats(_ base: ImageEvidence, _ observations: [HeartbeatObservation], localHostID: String? = "host-a") -> ImageEvidence {
    var evidence = base
    evidence.heartbeats = observations
    evidence.localHostID = localHostID
    return evidence
}

let idleRemote = evidence(
    handles: [handle("2.1.1")], grants: [remoteHost], sessions: [SessionFacts(originator: remoteHost, ownerAuthId: svc, idleSeconds: 900)])
let deadRemote = evidence(handles: [handle("2.1.2")], grants: [deadHost])
let leftover = evidence(
    handles: [handle("2.1.3")], grants: [thisHost], sessions: [SessionFacts(originator: thisHost, ownerAuthId: svc, idleSeconds: 5)])
let liveRemote = evidence(
    handles: [handle("2.1.4")], grants: [remoteHost], sessions: [SessionFacts(originator: remoteHost, ownerAuthId: svc, idleSeconds: 12)])

let heartbeatTable: [DecisionRow] = [
    DecisionRow(
        name: "session idle 900 s, host beats (4 s ago): live, start refused naming host, age and domain",
        evidence: withHeartbeats(idleRemote, [beating()]), policy: start, actions: ["2.1.1": .refuse], verdict: .refuse,
        reasonFragments: ["2.1.1": ["live", "proven alive by heartbeat", "kvm-b (host-b)", "beat 4 s ago", "domain web01", "idle 15 min 0 s", "keeps beating"]]),
    DecisionRow(
        name: "session idle 900 s, host beats: migration keeps",
        evidence: withHeartbeats(idleRemote, [beating()]), policy: migration, actions: ["2.1.1": .keep], verdict: .proceed,
        reasonFragments: ["2.1.1": ["migration source", "host-b"]]),
    DecisionRow(
        name: "dead host (no session) that still beats: live, refused",
        evidence: withHeartbeats(deadRemote, [beating(deadHost)]), policy: start, actions: ["2.1.2": .refuse], verdict: .refuse),
    DecisionRow(
        name: "host stopped beating 5 min ago: stale record, today's rules (close)",
        evidence: withHeartbeats(idleRemote, [beating(age: 300)]), policy: start, actions: ["2.1.1": .close], verdict: .proceed),
    DecisionRow(
        name: "dead host with a 5 min old record: close",
        evidence: withHeartbeats(deadRemote, [beating(deadHost, age: 300)]), policy: start, actions: ["2.1.2": .close], verdict: .proceed),
    DecisionRow(
        name: "never ran the heartbeat (no record): today's rules (close)",
        evidence: withHeartbeats(idleRemote, []), policy: start, actions: ["2.1.1": .close], verdict: .proceed),
    DecisionRow(
        name: "record at exactly heartbeat_fresh_seconds: still fresh",
        evidence: withHeartbeats(idleRemote, [beating(age: 30)]), policy: start, actions: ["2.1.1": .refuse], verdict: .refuse),
    DecisionRow(
        name: "record dated in the future: fresh (skew errs on the safe side)",
        evidence: withHeartbeats(idleRemote, [beating(age: -3600)]), policy: start, actions: ["2.1.1": .refuse], verdict: .refuse,
        reasonFragments: ["2.1.1": ["in the future"]]),
    DecisionRow(
        name: "forged record claiming this host's own address: the local rules decide (leftover closes)",
        evidence: withHeartbeats(leftover, [beating(thisHost)]), policy: start, actions: ["2.1.3": .close], verdict: .proceed),
    DecisionRow(
        name: "record with this host's own host_id listing only this host's addresses: ignored (the leftover still closes)",
        evidence: withHeartbeats(leftover, [beating(thisHost, host: "host-a", lists: [thisHost])]), policy: start, actions: ["2.1.3": .close],
        verdict: .proceed),
    DecisionRow(
        name: "HOST_ID COLLISION: a record with this host's host_id listing another address is another host's: refused, flagged",
        evidence: withHeartbeats(idleRemote, [beating(host: "host-a")]), policy: start, actions: ["2.1.1": .refuse], verdict: .refuse,
        reasonFragments: ["2.1.1": ["HOST_ID COLLISION", "host_id host-a lists 10.0.0.2", "beat 4 s ago"]]),
    DecisionRow(
        name: "HOST_ID COLLISION with a shared address (cloned local_addresses): counted as alive, never this host's own",
        evidence: withHeartbeats(leftover, [beating(thisHost, host: "host-a", lists: [thisHost, "10.0.0.9"])]), policy: start,
        actions: ["2.1.3": .refuse], verdict: .refuse, reasonFragments: ["2.1.3": ["HOST_ID COLLISION", "10.0.0.9"]]),
    DecisionRow(
        name: "HOST_ID COLLISION, record 5 min old: stale like any other host's (today's rules close)",
        evidence: withHeartbeats(idleRemote, [beating(host: "host-a", age: 300)]), policy: start, actions: ["2.1.1": .close], verdict: .proceed),
    DecisionRow(
        name: "a record read without a dropped entry still proves its host alive, and says what was dropped",
        evidence: withHeartbeats(idleRemote, [beating(dropped: ["image \"../x\" dropped: the path is not below the share"])]), policy: start,
        actions: ["2.1.1": .refuse], verdict: .refuse, reasonFragments: ["2.1.1": ["record entries dropped, the rest used", "../x"]]),
    DecisionRow(
        name: "unusable record (malformed, huge, symlinked): ignored, today's rules",
        evidence: withHeartbeats(idleRemote, [.unusable(address: remoteHost, reason: "symbolic link")]), policy: start,
        actions: ["2.1.1": .close], verdict: .proceed),
    DecisionRow(
        name: "a record never makes a live session stale: live holder with a stale record still refuses",
        evidence: withHeartbeats(liveRemote, [beating(age: 3000)]), policy: start, actions: ["2.1.4": .refuse], verdict: .refuse,
        reasonFragments: ["2.1.4": ["idle 12 s", "stale in 168 s"]]),
    DecisionRow(
        name: "live session and a fresh record: refused, the reason adds the host",
        evidence: withHeartbeats(liveRemote, [beating()]), policy: start, actions: ["2.1.4": .refuse], verdict: .refuse,
        reasonFragments: ["2.1.4": ["idle 12 s", "heartbeat:", "kvm-b"]]),
    DecisionRow(
        name: "heartbeat-live and forced: close (the operator overrides)",
        evidence: withHeartbeats(idleRemote, [beating()]), policy: forcedStart, actions: ["2.1.1": .close], verdict: .proceed),
    DecisionRow(
        name: "protected client whatever the records say: refused, never closed",
        evidence: withHeartbeats(
            evidence(handles: [handle("2.1.5")], grants: [remoteHost], protected: [remoteHost]), [beating(age: 9999)]),
        policy: start, actions: ["2.1.5": .refuse], verdict: .refuse),
    DecisionRow(
        name: "heartbeat-live holder among stale ones: the stale handles are kept, nothing closed",
        evidence: withHeartbeats(
            evidence(
                handles: [handle("2.1.6"), handle("2.1.7", owner: "501", name: "svc-other")], grants: [remoteHost],
                sessions: [SessionFacts(originator: remoteHost, ownerAuthId: svc, idleSeconds: 900)]),
            [beating()]),
        policy: start, actions: ["2.1.6": .refuse, "2.1.7": .refuse], verdict: .refuse),
]

@Suite("Lock-hygiene decisions with heartbeat evidence")
struct HeartbeatDecisionTests {
    @Test("each row gives the expected action, verdict and reason", arguments: heartbeatTable)
    func row(_ row: DecisionRow) {
        var policy = row.policy
        policy.heartbeatFreshSeconds = 30
        let result = LockHygieneDecider(policy: policy).decide(row.evidence, disk: row.disk)
        #expect(result.verdict == row.verdict, "\(result.summary)")
        #expect(Dictionary(uniqueKeysWithValues: result.decisions.map { ($0.handle.location, $0.action) }) == row.actions)
        for decision in result.decisions {
            #expect(!decision.reason.contains("\n"))
            for fragment in row.reasonFragments[decision.handle.location] ?? [] {
                #expect(decision.reason.contains(fragment), "reason: \(decision.reason)")
            }
        }
    }

    /// The property behind every row: for any evidence, adding heartbeat observations never
    /// turns a keep/refuse/report into a close.
    @Test("records never add a close", arguments: [idleRemote, deadRemote, leftover, liveRemote])
    func recordsNeverAddAClose(_ base: ImageEvidence) {
        let observations: [[HeartbeatObservation]] = [
            [], [beating()], [beating(age: 300)], [beating(thisHost)], [beating(deadHost)], [beating(host: "host-a")],
            [.unusable(address: remoteHost, reason: "x")], [beating(age: -50)],
        ]
        for policy in [start, migration] {
            let without = Set(LockHygieneDecider(policy: policy).decide(base).locationsToClose)
            for observed in observations {
                let with = Set(LockHygieneDecider(policy: policy).decide(withHeartbeats(base, observed)).locationsToClose)
                #expect(with.isSubset(of: without), "\(observed)")
            }
        }
    }

    @Test("a collision and dropped entries always deserve a warning, even when the record proved the holder alive")
    func anomaliesWarn() throws {
        let judged = HeartbeatJudgement(freshSeconds: 30)
        let collision = judged.judge(holders: [remoteHost], evidence: withHeartbeats(idleRemote, [beating(host: "host-a")]))
        #expect(collision.map(\.status) == [.alive] && collision.allSatisfy { $0.collision && $0.deservesWarning })
        let own = judged.judge(holders: [thisHost], evidence: withHeartbeats(leftover, [beating(thisHost, host: "host-a", lists: [thisHost])]))
        #expect(own.map(\.status) == [.ignored] && own.allSatisfy { !$0.collision })
        let dropped = judged.judge(holders: [remoteHost], evidence: withHeartbeats(idleRemote, [beating(dropped: ["x"])]))
        #expect(dropped.map(\.status) == [.alive] && dropped.allSatisfy { $0.deservesWarning && $0.droppedEntries == ["x"] })
        let plain = judged.judge(holders: [remoteHost], evidence: withHeartbeats(idleRemote, [beating()]))
        #expect(plain.allSatisfy { !$0.deservesWarning })
    }

    @Test("the decision carries the per-holder heartbeat evidence check shows")
    func evidenceShown() throws {
        let base = evidence(handles: [handle("2.2.1")], grants: [remoteHost, deadHost, thisHost])
        let result = LockHygieneDecider(policy: start).decide(
            withHeartbeats(base, [beating(age: 300), beating(thisHost, host: "host-x"), .unusable(address: deadHost, reason: "too large")]))
        let heartbeats = try #require(result.decisions.first?.heartbeats)
        let byAddress = Dictionary(grouping: heartbeats, by: \.address)
        #expect(byAddress[remoteHost]?.first?.status == .stale)
        #expect(byAddress[remoteHost]?.first?.note.contains("stale since 2026-12-01T19:50:00Z") == true)
        #expect(byAddress[deadHost]?.first?.status == .ignored)
        #expect(byAddress[thisHost]?.first?.status == .ignored)
        #expect(byAddress[thisHost]?.first?.note.contains("claims this host's address") == true)
        let none = LockHygieneDecider(policy: start).decide(base).decisions.first?.heartbeats ?? []
        #expect(none.allSatisfy { $0.status == .noRecord } && none.count == 3)
    }
}
