import ArgumentParser
import AttachmentLocks
import SmbvolSystem
import SmbvolUseCases

struct MountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mounts",
        abstract: "List the configured shares, whether each is mounted, and the attachment locks on it.",
        discussion: """
            A share stays mounted while any lock remains: one per disk of a running domain (context hook) \
            and any an operator added (context operator). Shares only the locks mention (from connection \
            info) are listed too.
            """)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions

    @Flag(name: .long, help: "Print JSON: {\"mounts\": [{\"share\", \"export\", \"mount_point\", \"mounted\", \"locks\": […]}]}.")
    var json = false

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let statuses = try OperatorShares(configuration: try configOption.load(), logger: logger).statuses()
            let output = OutputWriter()
            if json {
                output.write(JSONWriter.document(.object([("mounts", .array(statuses.map(MountJSON.value)))])))
                return
            }
            let now = SystemClock().wallClockSeconds()
            for status in statuses {
                let state = status.share.isLocal ? "local" : (status.mounted ? "mounted" : "not mounted")
                output.line("\(status.share.name)  \(status.share.export.isEmpty ? "-" : status.share.export)  \(status.share.mountPoint)  \(state)")
                for lock in status.locks { output.line("    " + LockText.line(lock, now: now)) }
            }
        }
    }
}

enum MountJSON {
    static func value(_ status: ShareStatus) -> JSONValue {
        .object([
            ("share", .string(status.share.name)), ("export", .string(status.share.export)),
            ("mount_point", .string(status.share.mountPoint)), ("mounted", .bool(status.mounted)),
            ("locks", .array(status.locks.map(LockJSON.value))),
        ])
    }
}
