import HandleEvidence
import LockHygiene
import QumuloClient
import SMBMounts
import SmbvolPresentation
import SmbvolUseCases
import StaleHandleCleanup
import Testing

/// An error as a layer below reports it: its description is all a renderer may use.
private struct Problem: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite("FailureText: each typed failure → its one line")
struct FailureTextTests {
    static let timeout = QumuloError(.deadlineExceeded, method: "GET", path: "/v1/session/who-am-i")

    static func liveHandle(_ location: String, reason: String) -> ImageHolder.Evidence {
        .liveHandle(
            HandleDecision(
                handle: HandleFacts(location: location, ownerAuthId: "500"), classification: .live, action: .refuse, reason: reason,
                clientAddresses: ["10.0.0.9"], idleSeconds: 5))
    }

    static let claimNote = "host kvm-b (host-b, 203.0.113.2) claimed it 3 s ago for web01"
    static let beatingHost = BeatingHost(
        hostname: "kvm-b", hostID: "host-b", addresses: ["203.0.113.2", "2001:db8::2"], ageSeconds: 4, domains: ["web01"], image: "web01/disk0.qcow2")

    @Test("a refusal the cluster decided: handles, live claims and unreadable claims, each group once, in image order")
    func refusalByTheCluster() {
        let refusal = StartRefusal(
            domainName: "web01", clusterNotAsked: nil,
            holders: [
                ImageHolder(image: "/mnt/one/a.qcow2", clusterPath: "/one/a.qcow2", evidence: Self.liveHandle("1.2.3", reason: "live: 10.0.0.9 idle 5 s")),
                ImageHolder(
                    image: "/mnt/one/b.qcow2", clusterPath: "/one/b.qcow2",
                    evidence: .freshClaim(JudgedClaim(status: .alive, fact: nil, note: Self.claimNote))),
                ImageHolder(
                    image: "/mnt/one/c.qcow2", clusterPath: "/one/c.qcow2",
                    evidence: .unreadableClaims(JudgedClaim(status: .unread, fact: nil, note: "claims unreadable: permission denied"))),
                ImageHolder(image: "/mnt/one/d.qcow2", clusterPath: nil, evidence: .undecided(summary: "refuse: a live holder")),
            ])
        #expect(
            FailureText.text(refusal)
                == "refusing to start web01: live SMB handles on /mnt/one/a.qcow2 (/one/a.qcow2): live: 10.0.0.9 idle 5 s; /mnt/one/d.qcow2 (?): refuse: a live holder; and a holder proven alive by its claim (no handle needed) on /mnt/one/b.qcow2 (/one/b.qcow2): \(Self.claimNote) — stop the domain there, or wait until its claim goes stale; and holder claims that could not be read on /mnt/one/c.qcow2 (/one/c.qcow2): claims unreadable: permission denied — remove what does not belong in the claim directory, or --force if no other host runs the image. Nothing was closed; stop the other holder, or see `smbvol check --domain web01`."
        )
        #expect(
            FailureText.refusedLine(StartRefusal(domainName: "web01", clusterNotAsked: nil, holders: [refusal.holders[0]]))
                == "smbvol: refused: refusing to start web01: live SMB handles on /mnt/one/a.qcow2 (/one/a.qcow2): live: 10.0.0.9 idle 5 s. Nothing was closed; stop the other holder, or see `smbvol check --domain web01`."
        )
    }

    @Test("a refusal without the cluster: why, then every holder (heartbeats first), escaped to one line")
    func refusalWithoutTheCluster() {
        let holders = [
            ImageHolder(image: "/mnt/one/web01/disk0.qcow2", clusterPath: nil, evidence: .freshHeartbeat(Self.beatingHost)),
            ImageHolder(
                image: "/mnt/one/web01/disk0.qcow2", clusterPath: nil, evidence: .freshClaim(JudgedClaim(status: .alive, fact: nil, note: "claimed\nby kvm-b"))),
        ]
        let holdersText =
            "/mnt/one/web01/disk0.qcow2: host kvm-b (host-b, 203.0.113.2, 2001:db8::2) beat 4 s ago listing domain web01 on web01/disk0.qcow2; /mnt/one/web01/disk0.qcow2: claimed by kvm-b"
        #expect(
            FailureText.text(StartRefusal(domainName: "web01", clusterNotAsked: .noneConfigured, holders: holders))
                == "refusing to start web01: no [cluster] is configured and \(holdersText). Nothing was closed; stop it there, or wait until its heartbeat or claim goes stale."
        )
        #expect(
            FailureText.text(StartRefusal(domainName: "web01", clusterNotAsked: .unavailable(Self.timeout), holders: holders))
                == "refusing to start web01: the Qumulo cluster cannot be asked (GET /v1/session/who-am-i: deadline exceeded before the cluster answered) and \(holdersText). Nothing was closed; stop it there, or wait until its heartbeat or claim goes stale."
        )
    }

    @Test("a failed start: each reason → its line")
    func startFailures() {
        let hung = MountCommandError.mountHung(share: "one", mountPoint: "/mnt/one", seconds: 5)
        let cases: [(StartFailure, String)] = [
            (
                StartFailure(.start, of: "web01", error: hung),
                "start of web01 failed: share one at /mnt/one does not answer (statfs gave no reply within 5 s): its SMB server or the connection to it hangs; check the server, or detach the mount by hand (`umount -f -l /mnt/one`) once nothing uses it"
            ),
            (StartFailure(.incomingMigration, of: "web01", error: Problem("mount error(13)\nPermission denied")), "incoming migration of web01 failed: mount error(13) Permission denied"),
            (
                StartFailure(.start, of: "web01", .clusterUnavailable(Self.timeout)),
                "cannot ask the Qumulo cluster about web01's images (on_cluster_error = fail): GET /v1/session/who-am-i: deadline exceeded before the cluster answered"
            ),
            (
                StartFailure(.start, of: "web01", .staleHandleNotClosed(location: "1.2.3", reason: "HTTP 500")),
                "stale SMB handle 1.2.3 could not be closed (HTTP 500); qemu would not get its image lock — see `smbvol check --domain web01`"
            ),
            (StartFailure(.start, of: "web01", .invalid(Problem("disk vda: /srv/x.qcow2 is outside share one"))), "disk vda: /srv/x.qcow2 is outside share one"),
            (StartFailure(.start, of: "web01", .lockStore(Problem("locks.json:\nnot JSON"))), "locks.json: not JSON"),
            (
                StartFailure(.incomingMigration, of: "web01", .migrationMarkNotRecorded(Problem("EACCES"))),
                "incoming migration of web01: could not record the migration mark (EACCES)"
            ),
        ]
        for (failure, line) in cases {
            #expect(FailureText.text(failure) == line)
            #expect(FailureText.text(of: failure) == line, "a thrown failure renders as the returned one")
        }
        #expect(StartFailure(.start, of: "web01", error: Problem("x")).reason.isOther, "only a hung mount is told apart from other errors")
    }

    @Test("shares a detach or reconcile left mounted")
    func sharesLeftMounted() {
        #expect(FailureText.text(SharesLeftMounted(after: .detach, failures: ["one: busy", "two: busy"])) == "left mounted: one: busy; two: busy")
        #expect(FailureText.errorLine(SharesLeftMounted(after: .reconcile, failures: ["one: busy"])) == "smbvol: error: could not unmount: one: busy")
    }

    @Test("the hook's line: a refusal, a failure or what stopped the run; none on success; every other error by its description")
    func hookLines() throws {
        #expect(FailureText.hookLine(nil) == nil)
        let stopped = HookFailure.stopped(Problem("smbvol.toml:3: unknown key\n\"x\""))
        #expect(FailureText.hookLine(stopped) == "smbvol: smbvol.toml:3: unknown key \"x\"")
        let failed = HookFailure.failed(StartFailure(.start, of: "web01", .staleHandleNotClosed(location: "7", reason: "gone")))
        #expect(
            FailureText.hookLine(failed) == "smbvol: stale SMB handle 7 could not be closed (gone); qemu would not get its image lock — see `smbvol check --domain web01`")
        let refused = StartRefusal(domainName: "web01", clusterNotAsked: .noneConfigured, holders: [
            ImageHolder(image: "/mnt/one/a.qcow2", clusterPath: nil, evidence: .freshHeartbeat(Self.beatingHost))
        ])
        #expect(FailureText.hookLine(.refused(refused)) == "smbvol: " + FailureText.text(refused))
        #expect(FailureText.errorLine(Problem("two\nlines")) == "smbvol: error: two lines")
        // What the cluster or an error says is made one line too: libvirt shows one.
        let multiLine = HookFailure.failed(StartFailure(.start, of: "web01", .staleHandleNotClosed(location: "7", reason: "gone\r\n\u{1B}[31mred")))
        let line = try #require(FailureText.hookLine(multiLine))
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{1B}"), "\(line.debugDescription)")
        let invalid = HookFailure.failed(StartFailure(.start, of: "web01", .invalid(Problem("bad\ndomain"))))
        #expect(FailureText.hookLine(invalid) == "smbvol: bad domain")
    }
}

extension StartFailure.Reason {
    fileprivate var isOther: Bool {
        if case .other = self { return true }
        return false
    }
}
