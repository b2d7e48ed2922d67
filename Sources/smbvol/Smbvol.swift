import ArgumentParser

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
            MountDebugAttachCommand.self,
            MountDebugReleaseCommand.self,
            CheckCommand.self,
            HeartbeatCommand.self,
            HoldersCommand.self,
        ]
    )
}
