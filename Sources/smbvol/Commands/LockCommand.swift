import ArgumentParser
import AttachmentLocks
import SmbvolLogging
import SmbvolPresentation
import SmbvolSystem
import SmbvolUseCases
import SmbvolWiring

struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Add, delete and list attachment locks (a share is not unmounted while any remains).",
        subcommands: [LockAddCommand.self, LockDeleteCommand.self, LockListCommand.self])
}

struct LockAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an operator lock on a share and print its id.",
        discussion: "The share then stays mounted until `smbvol lock delete ID`; the libvirt hook never removes it.")

    @OptionGroup var options: OperatorOptions
    @Option(name: .long, help: "The configured share to lock.") var share: String
    @Option(name: .long, help: "Why (shown by `smbvol mounts`), e.g. \"backup window\".") var reason: String

    func run() throws {
        try options.run { configuration, logger in
            let lock = try OperatorShares(attachments: try CIFSShareAttachments.attachments(configuration: configuration, logger: logger)).addLock(share: share, reason: reason)
            OutputWriter().line(lock.id)
        }
    }
}

struct LockDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a lock by id; the share is unmounted if that was its last lock.")

    @OptionGroup var options: OperatorOptions
    @Argument(help: "The lock's id (see `smbvol lock list`).") var id: String

    func run() throws {
        try options.run { configuration, logger in
            let (lock, report) = try OperatorShares(attachments: try CIFSShareAttachments.attachments(configuration: configuration, logger: logger)).deleteLock(id: id)
            OutputWriter().lines(ShareText.lockDeletedLines(lock, report: report))
            for failure in report.unmountFailures { writeToStandardError("smbvol: warning: \(failure)\n") }
        }
    }
}

struct LockListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List attachment locks.")

    @OptionGroup var options: OperatorOptions
    @Option(name: .long, help: "Only the locks of this share.") var share: String?
    @Flag(name: .long, help: "Print JSON: {\"locks\": [{\"id\", \"domain_uuid\", \"domain_name\", \"disk\", \"reason\", \"context\", \"created_at\"}]}.")
    var json = false

    func run() throws {
        try options.run { configuration, logger in
            let locks = try OperatorShares(attachments: try CIFSShareAttachments.attachments(configuration: configuration, logger: logger)).locks(share: share)
            let output = OutputWriter()
            if json {
                output.write(ShareText.locksDocument(locks))
            } else {
                output.lines(ShareText.lockLines(locks, now: SystemClock().wallClockSeconds()))
            }
        }
    }
}
