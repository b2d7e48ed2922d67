import ArgumentParser
import AttachmentLocks
import SmbvolPresentation
import SmbvolUseCases
import SmbvolWiring

/// Undoes a hot-attach (`virsh detach-device` runs no hook).
struct DetachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detach",
        abstract: "Release a hot-attached disk: drop its lock, unmount the share if nothing else holds it.",
        discussion: "Run after `virsh detach-device`. The share stays mounted while any other lock remains.")

    @OptionGroup var options: DomainDiskOptions

    func run() throws {
        try options.run { configuration, logger in
            let uuid = try options.domainOptions.resolve().uuid
            let report = try Detach(attachments: try CIFSShareAttachments.attachments(configuration: configuration, logger: logger))(uuid: uuid, disk: options.disk)
            let output = OutputWriter()
            output.lines(ShareText.detachLines(report))
            output.flush()
            if let failure = report.detachFailure { throw failure }
        }
    }
}
