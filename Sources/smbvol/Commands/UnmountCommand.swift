import ArgumentParser
import AttachmentLocks
import SmbvolUseCases

struct UnmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmount",
        abstract: "Unmount a share; refused while attachment locks remain (they are listed).",
        discussion: """
            A busy share is retried three times. --force unmounts despite locks and, if the share is still \
            busy, lazily (umount -l); the locks are kept as the record of who used it.
            """)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions
    @Argument(help: "The share's name.") var share: String
    @Flag(name: .long, help: "Unmount even while locks remain (lazily if busy).") var force = false

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let outcome = try OperatorShares(configuration: try configOption.load(), logger: logger).unmount(share: share, force: force)
            let output = OutputWriter()
            switch outcome {
            case .local(let mountPoint): output.line("share \(share) is local (\(mountPoint)): nothing to unmount")
            case .unmounted(let mountPoint): output.line("unmounted share \(share) from \(mountPoint)")
            case .notMounted: output.line("share \(share) is not mounted")
            }
        }
    }
}
