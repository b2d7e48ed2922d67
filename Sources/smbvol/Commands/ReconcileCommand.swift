import ArgumentParser
import AttachmentLocks
import LibvirtDomains
import Logging
import SMBMounts
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

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
            let running = Set(try LibvirtConnection(readOnly: connect).listDomains().filter(\.state.isActive).map(\.uuid))
            let reconcile = Reconcile(attachments: try ShareAttachmentWiring(configuration: configuration, logger: logger))
            let report = try reconcile(runningDomainUUIDs: running, dryRun: dryRun)
            let output = OutputWriter()
            for step in report.steps {
                switch step {
                case .droppedLock(let id, let reason, let domainUUID):
                    output.line("\(dryRun ? "would drop" : "dropped") lock \(id): \(reason) (domain \(domainUUID) is not running)")
                case .unmounted(let share):
                    output.line("unmounted \(share)")
                case .unmountingUnheld(let share, let mountPoint):
                    output.line("\(dryRun ? "would unmount" : "unmounting") \(share) at \(mountPoint): no lock holds it")
                case .notOurs(let source, let mountPoint):
                    output.line("not smbvol's: \(source) mounted at \(mountPoint) (left alone)")
                }
            }
            output.flush()
            if !report.unmountFailures.isEmpty {
                throw HookFailure("could not unmount: \(report.unmountFailures.joined(separator: "; "))")
            }
        }
    }
}
