import ArgumentParser
import Logging
import SmbvolLogging
import SmbvolPresentation
import SmbvolUseCases
import SmbvolSystem
import SmbvolWiring

/// `smbvol hook NAME OP SUBOP EXTRA`, run by libvirt's qemu hook (hooks/qemu) with the domain
/// XML on stdin. See LibvirtHookRun (SmbvolWiring) for what each operation does.
struct HookCommand: ParsableCommand, OwnsDeadline {
    static let deadline = CommandBounds.Deadline.none
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "The libvirt qemu hook (run by /etc/libvirt/hooks/qemu.d/smbvol; domain XML on stdin).",
        discussion: """
            prepare begin: mount the shares of the domain's disks, clear stale SMB handles, record \
            attachment locks; refuse (exit 1) when a live client holds an image. migrate begin: the \
            same in migration mode (never refuses; the source still holds the images). release end: \
            release the domain's locks and unmount shares nobody uses (always exit 0). reconnect \
            begin: make sure the running domain's locks exist (always exit 0). Everything else: \
            exit 0 at once. Never writes stdout, never calls libvirt; bounded by deadline_seconds.
            """)

    @Argument(help: "The domain name (informational; state is keyed by the UUID in the XML).")
    var name: String

    @Argument(help: "The operation: prepare, start, started, stopped, release, migrate, restore, reconnect, attach.")
    var operation: String

    @Argument(help: "The sub-operation: begin or end.")
    var subOperation: String

    @Argument(help: "Extra argument ('-' or a reason).")
    var extra: String = "-"

    @OptionGroup var configOption: ConfigOption

    func run() throws {
        let hook = LibvirtHookRun(
            domainName: name, operation: operation, subOperation: subOperation, configPath: configOption.resolvedPath,
            failureText: { FailureText.text($0) })
        // The hook's deadline starts at its first instruction: reading stdin or a configuration
        // (a FIFO in shares.d, a hung filesystem) must not hang libvirt. Until the configuration
        // says otherwise, the default deadline_seconds applies.
        hook.armDeadline()
        // Nothing may reach stdout: on migrate/restore libvirt would take it as replacement XML.
        StandardStreams.discardOutput()
        let xml = LibvirtHookRun.readDomainXML()
        guard let kind = hook.kind else { throw ExitCode(0) }
        LoggingSetup.bootstrap(standardErrorLevel: .critical, syslogLevel: .info)
        let outcome = hook(kind, xml: xml, logger: Logger(label: "smbvol.hook"))
        if let line = FailureText.hookLine(outcome.failure) { writeToStandardError(line + "\n") }
        throw ExitCode(outcome.status)
    }
}
