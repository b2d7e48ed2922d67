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
            let wiring = try ShareAttachmentWiring(configuration: try configOption.load(), logger: logger)
            let target = try wiring.target(named: share)
            let output = OutputWriter()
            if target.isLocal {
                output.line("share \(share) is local (\(target.mountPoint)): nothing to unmount")
            } else if try wiring.service.unmountShare(target, force: force, deadline: wiring.deadline) {
                output.line("unmounted share \(share) from \(target.mountPoint)")
            } else {
                output.line("share \(share) is not mounted")
            }
        }
    }
}
