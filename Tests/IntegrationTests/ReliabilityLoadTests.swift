import Foundation
import SmbvolTestSupport
import Synchronization
import Testing

/// 50 concurrent hook runs (starts and releases mixed) over 10 shares and 50 domains, against one
/// simulator, in a private mount namespace; a sampler checks the whole time that no share is
/// unmounted while a lock on it exists.
@Suite("Reliability: load", .serialized)
struct ReliabilityLoadTests {
    static let shareCount = 10

    /// Shares: `s0`…`s9` = `//srv/shareN`. Starts (d1…d25) use s0…s5, releases (d26…d50) use s3…s9:
    /// s0–s2 only gain locks, s6–s9 only lose them, s3–s5 see both at once.
    static func share(ofDomain index: Int) -> Int { index <= 25 ? index % 6 : 3 + index % 7 }
    static func uuid(_ index: Int) -> String { String(format: "00000000-0000-4000-8000-%012d", index) }
    /// Stale handles (their client has no session) on the images of a few starting domains.
    static let staleDomains = [1, 2, 3, 4, 5]

    final class Rig: @unchecked Sendable {
        let mounts: MountLockFixture
        let simulator: SimulatorProcess
        let syslog: SyslogListener
        var mountPoints: [Int: String] = [:]

        init() throws {
            mounts = try MountLockFixture(extraShares: (0..<ReliabilityLoadTests.shareCount).map { "share\($0)" })
            syslog = try SyslogListener()
            var files: [String] = []
            var handles: [String] = []
            for index in 1...50 {
                let share = ReliabilityLoadTests.share(ofDomain: index)
                let directory = mounts.root + "/srv/share\(share)/d\(index)"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: directory + "/disk0.qcow2", contents: Data())
                files.append(#"{"path": "/share\#(share)/d\#(index)/disk0.qcow2", "id": "\#(5000 + index)"}"#)
                if ReliabilityLoadTests.staleDomains.contains(index) {
                    handles.append(
                        #"{"path": "/share\#(share)/d\#(index)/disk0.qcow2", "location": "9.\#(index).1", "owner": "1001", "client_address": "10.0.0.13", "num_byte_range_locks": 1}"#)
                }
            }
            let shares = (0..<ReliabilityLoadTests.shareCount).map { #"{"id": "\#($0 + 1)", "name": "share\#($0)", "fs_path": "/share\#($0)"}"# }
            simulator = try SimulatorProcess(
                scenarioJSON: """
                    {"users": [{"name": "svc-smbvol", "password": "load-password", "auth_id": "500"}],
                     "identities": [{"auth_id": "1001", "name": "svc-kvm", "domain": "ACTIVE_DIRECTORY"}],
                     "shares": [\(shares.joined(separator: ","))],
                     "files": [\(files.joined(separator: ","))],
                     "sessions": [{"originator": "10.0.0.21", "auth_id": "1001", "idle_seconds": 3}],
                     "handles": [\(handles.joined(separator: ","))]}
                    """)
            let passwordFile = mounts.directory + "/qumulo.password"
            try "load-password\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passwordFile)
            var config = """
                state_dir = "\(mounts.stateDirectory)"
                mount_base = "\(mounts.mountBase)"
                qemu_user = "root"
                qemu_group = "root"
                mount_timeout_seconds = 30
                deadline_seconds = 90
                syslog_socket = "\(syslog.path)"

                [policy]
                on_cluster_error = "fail"

                [cluster.sim]
                host = "127.0.0.1"
                port = \(simulator.port)
                ca_file = "\(simulator.caFile ?? "")"
                username = "svc-smbvol"
                password_file = "\(passwordFile)"
                credentials_store = "\(mounts.stateDirectory)/tokens/sim"
                request_timeout_seconds = 20

                """
            for share in 0..<ReliabilityLoadTests.shareCount {
                config += """

                    [share.s\(share)]
                    export = "//srv/share\(share)"
                    cluster = "sim"
                    fs_path = "/share\(share)"
                    credentials = "\(mounts.credentials)"
                    options = ["vers=3.1.1"]

                    """
            }
            try config.write(toFile: mounts.configPath, atomically: true, encoding: .utf8)

            let listing = mounts.smbvol(["mounts", "--json"])
            let object = try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [String: Any]
            for entry in object?["mounts"] as? [[String: Any]] ?? [] {
                guard let name = entry["share"] as? String, let index = Int(name.dropFirst()), let point = entry["mount_point"] as? String
                else { continue }
                mountPoints[index] = point
            }
            guard mountPoints.count == ReliabilityLoadTests.shareCount else {
                throw MountLockFixture.FixtureError("mounts --json: \(listing.stdout) \(listing.stderr)")
            }
        }

        func xml(_ index: Int) -> String {
            let point = mountPoints[ReliabilityLoadTests.share(ofDomain: index)] ?? "?"
            return """
                <domain type='kvm'><name>d\(index)</name><uuid>\(ReliabilityLoadTests.uuid(index))</uuid>
                  <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
                    <source file='\(point)/d\(index)/disk0.qcow2'/><target dev='vda' bus='virtio'/></disk></devices>
                </domain>
                """
        }

        /// Starts every (domain, operation) hook at once; waits (bounded) for all.
        func hooks(_ runs: [(Int, String, String)], timeout: Duration) throws -> [(index: Int, status: Int32?, stderr: String)] {
            let environment = ["LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SMBVOL_CONFIG": mounts.configPath]
            let processes = try runs.map { run in
                (run.0, try BackgroundProcess(
                    "/usr/bin/nsenter",
                    ["-t", "\(mounts.holder.processIdentifier)", "-m", "--wd=/", "--", mounts.smbvol, "hook", "d\(run.0)", run.1, run.2, "-"],
                    environment: environment, stdin: xml(run.0)))
            }
            let deadline = ContinuousClock.now + timeout
            return processes.map { index, process in
                let left = deadline - ContinuousClock.now
                let status = process.wait(timeout: left > .zero ? left : .zero)
                if status == nil { process.kill9() }
                return (index, status, process.stderr)
            }
        }
    }

    @Test("50 concurrent hooks (25 starts, 25 releases) over 10 shares: all succeed, one mount per share in use, never unmounted under a lock")
    func fiftyConcurrentHooks() throws {
        let rig = try Rig()
        let setup = try rig.hooks((26...50).map { ($0, "prepare", "begin") }, timeout: .seconds(120))
        for run in setup { #expect(run.status == 0, "setup start d\(run.index): \(run.stderr)") }
        #expect(try rig.mounts.locks().count == 25)

        // The sampler: a lock seen before and after a mount-table read must be mounted in it.
        let stop = Atomic<Bool>(false)
        let samplerStopped = Atomic<Bool>(false)
        let violations = Mutex<[String]>([])
        let samples = Atomic<Int>(0)
        let state = rig.mounts.stateDirectory
        let namespace = rig.mounts.holder.processIdentifier
        let base = rig.mounts.mountBase + "/"
        let sampler = Thread {
            while !stop.load(ordering: .sequentiallyConsistent) {
                guard let before = Reliability.storedLocks(stateDirectory: state) else { continue }
                // Two mount-table reads between the two store reads: a share missing from both
                // while its lock exists before and after was really not mounted.
                let mounted = Set(Reliability.mountPoints(pid: namespace, under: base))
                    .union(Reliability.mountPoints(pid: namespace, under: base))
                guard let after = Reliability.storedLocks(stateDirectory: state) else { continue }
                let afterIDs = Set(after.compactMap { $0["id"] as? String })
                for lock in before {
                    guard let id = lock["id"] as? String, afterIDs.contains(id), let point = lock["mount_point"] as? String else { continue }
                    if !mounted.contains(point) {
                        violations.withLock { $0.append("lock \(id) (\(lock["domain_name"] ?? "?")) on unmounted \(point); \(mounted.count) mounts seen: \(mounted.sorted())") }
                    }
                }
                samples.add(1, ordering: .relaxed)
                usleep(2_000)
            }
            samplerStopped.store(true, ordering: .sequentiallyConsistent)
        }
        sampler.start()

        let started = ContinuousClock.now
        let mixed = ((1...25).map { ($0, "prepare", "begin") } + (26...50).map { ($0, "release", "end") }).shuffled()
        let results = try rig.hooks(mixed, timeout: .seconds(150))
        let wall = ContinuousClock.now - started
        stop.store(true, ordering: .sequentiallyConsistent)
        #expect(waitUntil(timeout: .seconds(10)) { samplerStopped.load(ordering: .sequentiallyConsistent) }, "the sampler did not stop")
        print("ReliabilityLoadTests: 50 concurrent hook runs (25 starts, 25 releases, 10 shares) took \(wall); \(samples.load(ordering: .relaxed)) consistency samples")

        for run in results { #expect(run.status == 0, "d\(run.index): \(run.stderr)") }
        if !violations.withLock({ $0 }).isEmpty {
            print("DEBUG mount.log:\n" + rig.mounts.logLines("mount-calls.log").map { String($0.prefix(90)) }.joined(separator: "\n"))
            print("DEBUG umount.log:\n" + rig.mounts.logLines("umount.log").joined(separator: "\n"))
            print("DEBUG syslog:\n" + rig.syslog.lines.filter { $0.contains("share2") || $0.contains("s2") }.joined(separator: "\n"))
        }
        #expect(violations.withLock { $0 }.isEmpty, "\(violations.withLock { $0.prefix(5) })")
        #expect(samples.load(ordering: .relaxed) > 10, "the sampler must actually have sampled")

        // Locks: exactly one per started domain, none of the released ones.
        let locks = try rig.mounts.locks()
        #expect(locks.count == 25, "\(locks.count) locks")
        #expect(Set(locks.compactMap { $0["domain_uuid"] as? String }) == Set((1...25).map(Self.uuid)))
        for lock in locks {
            let name = lock["domain_name"] as? String ?? ""
            let index = Int(name.dropFirst()) ?? 0
            #expect(lock["share"] as? String == "s\(Self.share(ofDomain: index))", "\(lock)")
        }

        // Mounts: exactly one per share in use, none for the others; the logs agree.
        let table = Reliability.mountPoints(pid: namespace, under: base)
        let mountLog = rig.mounts.logLines("mount-calls.log")
        let umountLog = rig.mounts.logLines("umount.log")
        for share in 0..<Self.shareCount {
            let point = rig.mountPoints[share] ?? "?"
            let inUse = locks.contains { $0["share"] as? String == "s\(share)" }
            #expect(inUse == (0...5).contains(share), "share s\(share)")
            #expect(table.filter { $0 == point }.count == (inUse ? 1 : 0), "share s\(share): \(table.filter { $0 == point }.count) mounts")
            let mounted = mountLog.filter { $0.hasPrefix("//srv/share\(share) ") }.count
            let unmounted = umountLog.filter { $0 == point }.count
            #expect(mounted - unmounted == (inUse ? 1 : 0), "share s\(share): \(mounted) mounts, \(unmounted) unmounts")
        }
        #expect(Set(try rig.simulator.state().closedLocations) == Set(Self.staleDomains.map { "9.\($0).1" }))
    }
}
