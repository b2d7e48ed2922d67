import ArgumentParser
import AttachmentLocks
import SmbvolPresentation
import SmbvolSystem
import SmbvolUseCases
import SmbvolWiring

struct MountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mounts",
        abstract: "List the configured shares, whether each is mounted, and the attachment locks on it.",
        discussion: """
            A share stays mounted while any lock remains: one per disk of a running domain (context hook) \
            and any an operator added (context operator). Shares only the locks mention (from connection \
            info) are listed too.
            """)

    @OptionGroup var options: OperatorOptions

    @Flag(name: .long, help: "Print JSON: {\"mounts\": [{\"share\", \"export\", \"mount_point\", \"mounted\", \"locks\": […]}]}.")
    var json = false

    func run() throws {
        try options.run { configuration, logger in
            let statuses = try OperatorShares(attachments: try CIFSShareAttachments.attachments(configuration: configuration, logger: logger)).statuses()
            let output = OutputWriter()
            if json {
                output.write(ShareText.mountsDocument(statuses))
            } else {
                output.lines(ShareText.mountLines(statuses, now: SystemClock().wallClockSeconds()))
            }
        }
    }
}
