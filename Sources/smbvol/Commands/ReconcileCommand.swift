import ArgumentParser
import AttachmentLocks
import LibvirtDomains
import Logging
import SMBMounts
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

/// Brings smbvol's records back in line with reality after a crash, a killed hook or a lost
/// release: libvirt's domains (read-only) and the mount table are the truth.
struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Drop locks of domains that no longer run and unmount shares nobody holds.",
        discussion: """
            Compares the attachment locks with libvirt's domains (read-only connection) and with \
            the mount table: hook locks of domains that are not running are dropped; configured \
            shares that are mounted with no lock are unmounted; mounts under mount_base that \
            smbvol did not make are reported, never touched. Operator locks are never dropped. \
            --dry-run says what it would do. Exit 1 when libvirt cannot be asked (nothing is changed).
            """)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions

    @Option(name: .long, help: ArgumentHelp("libvirt URI (read-only).", valueName: "uri"))
    var connect: String = "qemu:///system"

    @Flag(name: .customLong("dry-run"), help: "Report; change nothing.")
    var dryRun = false

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let configuration = try configOption.load()
            // Ask libvirt first: without the truth about domains, change nothing.
            let running = Set(try LibvirtConnection(readOnly: connect).listDomains().filter(\.state.isActive).map { $0.uuid.lowercased() })
            let wiring = try ShareAttachmentWiring(configuration: configuration, logger: logger)
            let output = OutputWriter()
            var unmountFailures: [String] = []

            for lock in try wiring.service.locks() where lock.context == .hook && !running.contains(lock.domainUUID.lowercased()) {
                output.line("\(dryRun ? "would drop" : "dropped") lock \(lock.id): \(lock.reason) (domain \(lock.domainUUID) is not running)")
                guard !dryRun else { continue }
                let report = try wiring.service.deleteHookLock(id: lock.id, deadline: wiring.deadline)
                for share in report.unmountedShares { output.line("unmounted \(share)") }
                unmountFailures += report.unmountFailures
            }

            let locks = try wiring.service.locks()
            for status in try wiring.service.status(of: wiring.targets) where status.mounted && !status.share.isLocal {
                guard !locks.contains(where: { $0.mountPoint == status.share.mountPoint }) else { continue }
                output.line("\(dryRun ? "would unmount" : "unmounting") \(status.share.name) at \(status.share.mountPoint): no lock holds it")
                guard !dryRun else { continue }
                do {
                    _ = try wiring.service.unmountShare(status.share, force: false, deadline: wiring.deadline)
                } catch {
                    unmountFailures.append("\(status.share.name): \(error)")
                }
            }

            // The mount table lists real paths: compare in those (mount_base may be a symlink).
            let known = Set((wiring.targets.map(\.mountPoint) + locks.map(\.mountPoint)).map(ShareMounter.canonicalPath))
            let realBase = ShareMounter.canonicalPath(configuration.mountBase)
            let base = realBase.hasSuffix("/") ? realBase : realBase + "/"
            for entry in try MountTable.read(from: ProcMountTableReader()).entries
            where entry.mountPoint.hasPrefix(base) && !known.contains(entry.mountPoint) {
                output.line("not smbvol's: \(entry.source) mounted at \(entry.mountPoint) (left alone)")
            }
            output.flush()
            if !unmountFailures.isEmpty {
                throw HookFailure("could not unmount: \(unmountFailures.joined(separator: "; "))")
            }
        }
    }
}
