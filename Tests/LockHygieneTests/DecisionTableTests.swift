import LockHygiene
import Testing

/// The rows of the stale-handle policy's decision table (docs/stale-handle-policy.md): evidence in, one action per handle and a verdict out.
struct DecisionRow: Sendable, CustomTestStringConvertible {
    var name: String
    var evidence: ImageEvidence
    var policy: HygienePolicy
    var disk: DiskAccess = .exclusive
    /// Expected action per handle location.
    var actions: [String: HandleAction]
    var verdict: HygieneVerdict
    /// Fragments every reason of that location must contain.
    var reasonFragments: [String: [String]] = [:]

    var testDescription: String { name }
}

let thisHost = "10.0.0.1"
let remoteHost = "10.0.0.2"
let deadHost = "10.0.0.3"
let svc = "500"

func handle(_ location: String, owner: String = svc, name: String? = "svc-kvm") -> HandleFacts {
    HandleFacts(location: location, ownerAuthId: owner, ownerName: name, byteRangeLocks: 1)
}

func evidence(
    handles: [HandleFacts], grants: Set<String>, sessions: [SessionFacts] = [], otherDomains: [String] = [],
    protected: Set<String> = [], incomplete: [String] = []
) -> ImageEvidence {
    ImageEvidence(
        handles: handles, grantAddresses: grants, sessions: sessions, localAddresses: [thisHost, "127.0.0.1"],
        otherLocalDomains: otherDomains, protectedClients: protected, incompleteListings: incomplete)
}

let start = HygienePolicy(operation: .start, staleAfterSeconds: 180)
let migration = HygienePolicy(operation: .migration, staleAfterSeconds: 180)
let forcedStart = HygienePolicy(operation: .start, staleAfterSeconds: 180, force: true)

let decisionTable: [DecisionRow] = [
    DecisionRow(
        name: "dead host (no session) at start: close",
        evidence: evidence(handles: [handle("1.1.1")], grants: [deadHost]),
        policy: start, actions: ["1.1.1": .close], verdict: .proceed,
        reasonFragments: ["1.1.1": ["stale", "10.0.0.3 has no session of svc-kvm"]]),
    DecisionRow(
        name: "session idle past stale_after_seconds: close",
        evidence: evidence(
            handles: [handle("1.1.2")], grants: [remoteHost],
            sessions: [SessionFacts(originator: remoteHost, ownerAuthId: svc, idleSeconds: 600)]),
        policy: start, actions: ["1.1.2": .close], verdict: .proceed,
        reasonFragments: ["1.1.2": ["idle 10 min 0 s", "stale after 180 s"]]),
    DecisionRow(
        name: "live remote holder at start: refuse, naming address, owner, idle and time to stale",
        evidence: evidence(
            handles: [handle("1.1.3")], grants: [remoteHost],
            sessions: [SessionFacts(originator: remoteHost, ownerAuthId: svc, idleSeconds: 12)]),
        policy: start, actions: ["1.1.3": .refuse], verdict: .refuse,
        reasonFragments: ["1.1.3": ["live", "10.0.0.2", "svc-kvm", "idle 12 s", "stale in 168 s", "refused"]]),
    DecisionRow(
        name: "live remote holder seen by check --migration: keep (migration source)",
        evidence: evidence(
            handles: [handle("1.1.3")], grants: [remoteHost],
            sessions: [SessionFacts(originator: remoteHost, ownerAuthId: svc, idleSeconds: 12)]),
        policy: migration, actions: ["1.1.3": .keep], verdict: .proceed,
        reasonFragments: ["1.1.3": ["migration source"]]),
    DecisionRow(
        name: "live local holder with another local domain recorded: refuse",
        evidence: evidence(
            handles: [handle("1.1.4")], grants: [thisHost],
            sessions: [SessionFacts(originator: thisHost, ownerAuthId: svc, idleSeconds: 5)], otherDomains: ["web02"]),
        policy: start, actions: ["1.1.4": .refuse], verdict: .refuse,
        reasonFragments: ["1.1.4": ["this host (10.0.0.1)", "web02"]]),
    DecisionRow(
        name: "local leftover (this host, no other local domain): close",
        evidence: evidence(
            handles: [handle("1.1.5")], grants: [thisHost],
            sessions: [SessionFacts(originator: thisHost, ownerAuthId: svc, idleSeconds: 5)]),
        policy: start, actions: ["1.1.5": .close], verdict: .proceed,
        reasonFragments: ["1.1.5": ["this host (10.0.0.1)", "no other local domain", "leftover"]]),
    DecisionRow(
        name: "incoming migration, shared account: live source makes every handle live; dead host kept",
        evidence: evidence(
            handles: [handle("2.1.1"), handle("2.1.2")], grants: [remoteHost, deadHost],
            sessions: [SessionFacts(originator: remoteHost, ownerAuthId: svc, idleSeconds: 1)]),
        policy: migration, actions: ["2.1.1": .keep, "2.1.2": .keep], verdict: .proceed,
        reasonFragments: ["2.1.1": ["live", "migration source"], "2.1.2": ["live", "migration source"]]),
    DecisionRow(
        name: "incoming migration, distinct accounts: source kept, dead host's stale handle not closed while the source is live",
        evidence: evidence(
            handles: [handle("2.2.1", owner: "501", name: "src-acct"), handle("2.2.2", owner: "502", name: "dead-acct")],
            grants: [remoteHost, deadHost],
            sessions: [SessionFacts(originator: remoteHost, ownerAuthId: "501", idleSeconds: 1)]),
        policy: migration, actions: ["2.2.1": .keep, "2.2.2": .keep], verdict: .proceed,
        reasonFragments: ["2.2.1": ["migration source"], "2.2.2": ["stale", "dead-acct", "live holder (the migration source)"]]),
    DecisionRow(
        name: "incoming migration with only a dead host: close",
        evidence: evidence(handles: [handle("2.3.1")], grants: [deadHost]),
        policy: migration, actions: ["2.3.1": .close], verdict: .proceed),
    DecisionRow(
        name: "start with distinct accounts: the live holder refuses and the dead one is not closed either",
        evidence: evidence(
            handles: [handle("2.4.1", owner: "501", name: "src-acct"), handle("2.4.2", owner: "502", name: "dead-acct")],
            grants: [remoteHost, deadHost],
            sessions: [SessionFacts(originator: remoteHost, ownerAuthId: "501", idleSeconds: 1)]),
        policy: start, actions: ["2.4.1": .refuse, "2.4.2": .keep], verdict: .refuse),
    DecisionRow(
        name: "protected client without any session: never closed, refuses a start",
        evidence: evidence(handles: [handle("3.1.1")], grants: ["10.9.9.9"], protected: ["10.9.9.9"]),
        policy: start, actions: ["3.1.1": .refuse], verdict: .refuse,
        reasonFragments: ["3.1.1": ["protected client 10.9.9.9", "never closed"]]),
    DecisionRow(
        name: "protected client under --force: kept",
        evidence: evidence(handles: [handle("3.1.2")], grants: ["10.9.9.9"], protected: ["10.9.9.9"]),
        policy: forcedStart, actions: ["3.1.2": .keep], verdict: .proceed,
        reasonFragments: ["3.1.2": ["even when forced"]]),
    DecisionRow(
        name: "unattributable handles (no grants): report, keep",
        evidence: evidence(handles: [handle("4.1.1"), handle("4.1.2")], grants: []),
        policy: start, actions: ["4.1.1": .report, "4.1.2": .report], verdict: .proceed,
        reasonFragments: ["4.1.1": ["unattributable", "no lock grants", "--force"]]),
    DecisionRow(
        name: "unattributable handles under --force: close",
        evidence: evidence(handles: [handle("4.2.1")], grants: []),
        policy: forcedStart, actions: ["4.2.1": .close], verdict: .proceed,
        reasonFragments: ["4.2.1": ["--force"]]),
    DecisionRow(
        name: "shareable disk: never closed, even a dead host's handle",
        evidence: evidence(handles: [handle("5.1.1")], grants: [deadHost]),
        policy: start, disk: DiskAccess(shareable: true), actions: ["5.1.1": .keep], verdict: .proceed,
        reasonFragments: ["5.1.1": ["shareable disk", "never closed"]]),
    DecisionRow(
        name: "readonly disk under --force: never closed",
        evidence: evidence(
            handles: [handle("5.2.1")], grants: [remoteHost],
            sessions: [SessionFacts(originator: remoteHost, ownerAuthId: svc, idleSeconds: 1)]),
        policy: forcedStart, disk: DiskAccess(readonly: true), actions: ["5.2.1": .keep], verdict: .proceed,
        reasonFragments: ["5.2.1": ["readonly disk"]]),
    DecisionRow(
        name: "--force closes a live remote holder, saying it was forced",
        evidence: evidence(
            handles: [handle("6.1.1")], grants: [remoteHost],
            sessions: [SessionFacts(originator: remoteHost, ownerAuthId: svc, idleSeconds: 3)]),
        policy: forcedStart, actions: ["6.1.1": .close], verdict: .proceed,
        reasonFragments: ["6.1.1": ["live", "forced by the operator"]]),
    DecisionRow(
        name: "incomplete listing: a stale-looking handle is reported, not closed",
        evidence: evidence(handles: [handle("7.1.1")], grants: [deadHost], incomplete: ["sessions"]),
        policy: start, actions: ["7.1.1": .report], verdict: .proceed,
        reasonFragments: ["7.1.1": ["sessions listing was incomplete"]]),
    DecisionRow(
        name: "live session of another identity from the holder's address does not make the handle live",
        evidence: evidence(
            handles: [handle("8.1.1")], grants: [remoteHost],
            sessions: [SessionFacts(originator: remoteHost, ownerAuthId: "999", idleSeconds: 1)]),
        policy: start, actions: ["8.1.1": .close], verdict: .proceed),
    DecisionRow(
        name: "live session of the owner from an address holding no grant does not make the handle live",
        evidence: evidence(
            handles: [handle("8.2.1")], grants: [deadHost],
            sessions: [SessionFacts(originator: "10.0.0.77", ownerAuthId: svc, idleSeconds: 1)]),
        policy: start, actions: ["8.2.1": .close], verdict: .proceed),
    DecisionRow(
        name: "idle exactly stale_after_seconds counts as stale",
        evidence: evidence(
            handles: [handle("8.3.1")], grants: [remoteHost],
            sessions: [SessionFacts(originator: remoteHost, ownerAuthId: svc, idleSeconds: 180)]),
        policy: start, actions: ["8.3.1": .close], verdict: .proceed),
]

@Suite("Lock-hygiene decision table")
struct DecisionTableTests {
    @Test("each row gives the expected action per handle, verdict and reason", arguments: decisionTable)
    func row(_ row: DecisionRow) {
        let result = LockHygieneDecider(policy: row.policy).decide(row.evidence, disk: row.disk)
        #expect(result.verdict == row.verdict, "\(result.summary)")
        let actual = Dictionary(uniqueKeysWithValues: result.decisions.map { ($0.handle.location, $0.action) })
        #expect(actual == row.actions)
        for decision in result.decisions {
            #expect(!decision.reason.contains("\n"))
            for fragment in row.reasonFragments[decision.handle.location] ?? [] {
                #expect(decision.reason.contains(fragment), "reason: \(decision.reason)")
            }
        }
    }

    @Test("an image with no handles proceeds with no decisions")
    func noHandles() {
        let result = LockHygieneDecider(policy: start).decide(evidence(handles: [], grants: [deadHost]))
        #expect(result.decisions.isEmpty)
        #expect(result.verdict == .proceed)
    }

    @Test("a refused disk stops closes on the domain's other disks")
    func domainRefusal() throws {
        let decider = LockHygieneDecider(policy: start)
        let stale = decider.decide(evidence(handles: [handle("9.1.1")], grants: [deadHost]))
        let live = decider.decide(
            evidence(
                handles: [handle("9.2.1")], grants: [remoteHost],
                sessions: [SessionFacts(originator: remoteHost, ownerAuthId: svc, idleSeconds: 1)]))
        let combined = LockHygieneDecider.applyingDomainRefusal([stale, live])
        let first = try #require(combined.first)
        #expect(first.locationsToClose.isEmpty)
        #expect(first.decisions.first?.action == .keep)
        #expect(first.decisions.first?.reason.contains("another disk of the domain refuses") == true)
        #expect(LockHygieneDecider.applyingDomainRefusal([stale]) == [stale])
    }

    @Test("refusal summary names the live addresses")
    func refusalSummary() {
        let result = LockHygieneDecider(policy: start).decide(
            evidence(
                handles: [handle("9.3.1")], grants: [remoteHost],
                sessions: [SessionFacts(originator: remoteHost, ownerAuthId: svc, idleSeconds: 1)]))
        #expect(result.summary.contains("10.0.0.2"))
        #expect(result.summary.contains("nothing closed"))
    }

    @Test("durations read as seconds, minutes, hours")
    func durations() {
        #expect(StaleHandleClassifier.seconds(12.7) == "12 s")
        #expect(StaleHandleClassifier.seconds(125) == "125 s")
        #expect(StaleHandleClassifier.seconds(610) == "10 min 10 s")
        #expect(StaleHandleClassifier.seconds(7500) == "2 h 5 min")
    }
}
