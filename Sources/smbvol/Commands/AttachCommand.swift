import ArgumentParser
import HandleEvidence
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolLogging
import SmbvolPresentation
import SmbvolUseCases
import SmbvolWiring

/// Hot-attach: libvirt runs no hook for `virsh attach-device`, so the operator (or the
/// orchestration) runs this first, then attaches the printed image path.
struct AttachCommand: ParsableCommand, OwnsDeadline {
    static let deadline = CommandBounds.Deadline.start
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Prepare one disk for hot-attach: mount its share, clear stale handles, record the lock.",
        discussion: """
            Mounts the share (idempotently), runs start-mode lock hygiene on the image (a live holder \
            refuses, exit 3), records an attachment lock for (domain, disk), and prints the image path \
            to put in the <disk> XML. --json prints {"domain_uuid", "disk", "share", "mount_point", \
            "image", "lock_id"}. Undo with `smbvol detach`.
            """)

    @OptionGroup var options: DomainDiskOptions

    @Option(name: .long, help: ArgumentHelp("A configured share.", valueName: "share"))
    var share: String?

    @Option(name: .long, help: ArgumentHelp("The image's path below the share.", valueName: "relative-path"))
    var path: String?

    @Option(name: .customLong("connection-info"), help: ArgumentHelp("nova-style connection info JSON (driver_volume_type smbfs).", valueName: "file"))
    var connectionInfo: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        let byShare = share != nil || path != nil
        guard byShare != (connectionInfo != nil) else {
            throw ValidationError("give --share S --path REL, or --connection-info FILE")
        }
        if byShare && (share == nil || path == nil) { throw ValidationError("--share and --path go together") }
        if let path {
            let parts = path.split(separator: "/")
            if path.hasPrefix("/") || parts.contains("..") || parts.isEmpty {
                throw ValidationError("--path must be a relative path below the share, without '..'")
            }
        }
        guard options.disk.allSatisfy({ $0.isLetter || $0.isNumber }), !options.disk.isEmpty else {
            throw ValidationError("--disk must be a target dev such as vdb")
        }
    }

    func run() throws {
        try options.run { configuration, logger in
            let shares = try ShareCatalog(configuration: configuration)
            let (domainName, uuid) = try options.domainOptions.resolve()
            let source: HotAttachSource
            if let connectionInfo {
                source = .connectionInfo(try ReadConnectionInfo()(connectionInfo))
            } else if let share, let path {
                source = .share(name: share, relativePath: path)
            } else {
                throw ValidationError("give --share S --path REL, or --connection-info FILE")
            }
            let attach = HotAttach(
                configuration: configuration, shares: shares, domainName: domainName, uuid: uuid, disk: options.disk, logger: logger,
                clusters: ConfiguredClusterClients(configuration: configuration),
                localAddresses: { LocalAddresses.current(extra: configuration.localAddresses) },
                progress: WatchdogRunProgress(configuration: configuration, domainName: domainName),
                makeAttachments: { extra in
                    CIFSShareAttachments(configuration: configuration).attachments(for: shares, connectionInfoShares: extra, logger: logger)
                })
            switch try attach(source) {
            case .refused(let refusal):
                Observability.noteRefusedStart()
                writeToStandardError(FailureText.refusedLine(refusal) + "\n")
                throw ExitCode(3)
            case .failed(let failure):
                throw failure
            case .attached(let image, let lock):
                let output = OutputWriter()
                if json {
                    output.write(ShareText.attachDocument(domainUUID: uuid.value, disk: options.disk, image: image, lock: lock))
                } else {
                    output.line(image)
                }
                output.flush()
            }
        }
    }
}
