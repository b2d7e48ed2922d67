import ArgumentParser
import AttachmentLocks
import SmbvolLogging
import SmbvolUseCases

/// Undoes a hot-attach (`virsh detach-device` runs no hook).
struct DetachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detach",
        abstract: "Release a hot-attached disk: drop its lock, unmount the share if nothing else holds it.",
        discussion: "Run after `virsh detach-device`. The share stays mounted while any other lock remains.")

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var domainOptions: DomainSelection
    @OptionGroup var loggingOptions: LoggingOptions

    @Option(name: .long, help: ArgumentHelp("The disk's target dev (vdb).", valueName: "target"))
    var disk: String

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let configuration = try configOption.load()
            let (_, uuid) = try domainOptions.resolve()
            let report = try Detach(attachments: try ShareAttachmentWiring(configuration: configuration, logger: logger))(uuid: uuid, disk: disk)
            let output = OutputWriter()
            for lock in report.removedLocks { output.line("released lock \(lock.id) (\(lock.reason))") }
            for share in report.unmountedShares { output.line("unmounted \(share)") }
            output.flush()
            if !report.unmountFailures.isEmpty {
                throw HookFailure("left mounted: \(report.unmountFailures.joined(separator: "; "))")
            }
        }
    }
}
