import ArgumentParser
import AttachmentLocks
import SmbvolPresentation
import SmbvolUseCases
import SmbvolWiring

struct UnmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmount",
        abstract: "Unmount a share; refused while attachment locks remain (they are listed).",
        discussion: """
            A busy share is retried three times. --force unmounts despite locks and, if the share is still \
            busy, lazily (umount -l); the locks are kept as the record of who used it.
            """)

    @OptionGroup var options: OperatorOptions
    @Argument(help: "The share's name.") var share: String
    @Flag(name: .long, help: "Unmount even while locks remain (lazily if busy).") var force = false

    func run() throws {
        try options.run { configuration, logger in
            let outcome = try OperatorShares(attachments: try CIFSShareAttachments.attachments(configuration: configuration, logger: logger)).unmount(share: share, force: force)
            OutputWriter().line(ShareText.unmountLine(outcome, share: share))
        }
    }
}
