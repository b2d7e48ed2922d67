import ArgumentParser
import AttachmentLocks
import LibvirtDomains
import SmbvolPresentation
import SmbvolUseCases
import SmbvolWiring

/// Brings smbvol's records back in line with reality after a crash, a killed hook or a lost
/// release: libvirt's domains (read-only) and the mount table are the truth.
struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Drop locks of domains that are not active and unmount shares nobody holds.",
        discussion: """
            Compares the attachment locks with libvirt's domains (read-only connection) and with \
            the mount table: hook locks of domains that are not active (no id: a crashed domain \
            kept by on_crash=preserve is active) are dropped, unless recorded after libvirt was \
            asked (a start in progress keeps its lock); configured \
            shares that are mounted with no lock are unmounted; mounts under mount_base that \
            smbvol did not make are reported, never touched. Operator locks are never dropped. \
            --dry-run says what it would do. Exit 1 when libvirt cannot be asked (nothing is changed).
            """)

    @OptionGroup var options: OperatorOptions

    @Option(name: .long, help: ArgumentHelp("libvirt URI (read-only).", valueName: "uri"))
    var connect: String = "qemu:///system"

    @Flag(name: .customLong("dry-run"), help: "Report; change nothing.")
    var dryRun = false

    func run() throws {
        try options.run(whenMissing: .warnAndUseDefaults) { configuration, logger in
            // Connect first: without the truth about domains, change nothing.
            let libvirt = try LibvirtConnection(readOnly: connect)
            let reconcile = Reconcile(attachments: try CIFSShareAttachments.attachments(configuration: configuration, logger: logger))
            let report = try reconcile(domains: libvirt, dryRun: dryRun)
            let output = OutputWriter()
            output.lines(ShareText.reconcileLines(report, dryRun: dryRun))
            output.flush()
            if let failure = report.failure { throw failure }
        }
    }
}
