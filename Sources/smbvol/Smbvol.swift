import ArgumentParser
import SmbvolUseCases
import SmbvolWiring

#if canImport(Glibc)
import Glibc
#endif

@main
struct Smbvol: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smbvol",
        abstract: "Mount SMB shares for KVM guests and clear stale Qumulo SMB handles on their images.",
        discussion: """
            libvirt's qemu hook runs `smbvol hook …` on VM start and incoming migration; operators use \
            the other commands to inspect and act by hand. Configuration: /etc/smbvol/smbvol.toml \
            (or --config / SMBVOL_CONFIG) plus /etc/smbvol/shares.d/*.toml.
            """,
        version: smbvolVersion,
        subcommands: [
            LoginCommand.self,
            HandlesCommand.self,
            MountsCommand.self,
            UnmountCommand.self,
            LockCommand.self,
            HookCommand.self,
            AttachCommand.self,
            DetachCommand.self,
            ReconcileCommand.self,
            CheckCommand.self,
            HeartbeatCommand.self,
            HoldersCommand.self,
            FenceCommand.self,
            UnfenceCommand.self,
            FenceAgentCommand.self,
        ]
    )

    /// ArgumentParser's main, plus the end-of-run metrics merge (Observability.flush) whether
    /// the command succeeded, failed or exited with a status (the hook always does).
    static func main() {
        // Run as fence_smbvol (a link or copy of this binary), it is the fence agent HA managers call.
        if let program = CommandLine.arguments.first, program.split(separator: "/").last == "fence_smbvol" {
            let status = FenceAgentRunner.run(arguments: Array(CommandLine.arguments.dropFirst()))
            Observability.flush()
            Glibc.exit(status)
        }
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        CommandBounds.arm(for: command)
        do {
            try command.run()
        } catch {
            Observability.flush()
            exit(withError: error)
        }
        Observability.flush()
    }
}
