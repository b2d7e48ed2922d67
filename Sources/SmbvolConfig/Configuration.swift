/// smbvol's whole configuration: `/etc/smbvol/smbvol.toml` merged with `shares.d/*.toml`.
public struct SmbvolConfiguration: Sendable, Equatable {
    /// Where attachment locks, caches and run state live (`state_dir`).
    public var stateDirectory: String
    /// Parent directory of the mount points smbvol derives from exports (`mount_base`).
    public var mountBase: String
    /// The program run as `mount_command <export> <mount point> -o <options>` (`mount_command`).
    public var mountCommand: String
    /// The program run as `umount_command <mount point>` (`umount_command`).
    public var umountCommand: String
    /// The user and group qemu runs as; `nil` means "what /etc/libvirt/qemu.conf names, else
    /// libvirt-qemu / kvm" (resolved by the mount layer, not here).
    public var qemuUser: String?
    public var qemuGroup: String?
    /// The mount program is killed after this many seconds (`mount_timeout_seconds`).
    public var mountTimeoutSeconds: Double
    /// The hook's overall deadline (`deadline_seconds`).
    public var deadlineSeconds: Double
    /// `deadline_seconds` when the configuration does not set it — and the hook's bound while it
    /// reads its configuration.
    public static let defaultDeadlineSeconds: Double = 60
    /// Every operator command's overall bound (`command_deadline_seconds`, default 600): a
    /// hung cluster or an endless listing ends with a clear error instead of running forever.
    public var commandDeadlineSeconds: Double = 600
    /// Extra addresses that count as this host (`local_addresses`), besides its interfaces.
    public var localAddresses: [String]
    /// The local syslog socket audit lines go to (`syslog_socket`).
    public var syslogSocket: String
    /// journald's native socket (`journal_socket`); used when it exists, else syslog. nil: never
    /// (`journal_socket = ""`, or `syslog_socket` set elsewhere than /dev/log with no
    /// `journal_socket`: the operator chose where the log goes).
    public var journalSocket: String? = SmbvolConfiguration.defaultJournalSocket
    /// The Prometheus textfile (`metrics_file`, e.g. node_exporter's textfile directory); nil: no metrics.
    public var metricsFile: String?
    /// This host's identity in heartbeat records (`host_id`); nil means /etc/machine-id.
    public var hostID: String?
    /// How often `smbvol heartbeat` writes this host's record (`heartbeat_interval_seconds`).
    public var heartbeatIntervalSeconds: Double = 10
    /// A record younger than this proves its host alive (`heartbeat_fresh_seconds`); nil means
    /// three times the interval.
    public var heartbeatFreshSeconds: Double?
    /// What `smbvol heartbeat` does with a running domain whose image another host took over
    /// (a takeover record on the share, this host's handle confirmed gone by the cluster).
    public enum OnTakeover: String, Sendable, Equatable, CaseIterable {
        /// `virDomainSuspend`: no more writes; the operator decides (default).
        case pause
        /// `virDomainDestroy`: qemu killed at once.
        case destroy
        /// Only the audit event and the metric: the domain keeps running.
        case log
    }
    public var onTakeover: OnTakeover = .pause
    /// The libvirt connection `smbvol heartbeat` pauses or destroys domains through
    /// (`libvirt_uri`; tests use the test driver). The hook never connects to libvirt.
    public var libvirtURI: String = "qemu:///system"
    public var policy: PolicyConfiguration
    public var clusters: [String: ClusterConfiguration]
    public var shares: [String: ShareConfiguration]
    /// The files this configuration was read from, in load order.
    public var sourceFiles: [String]

    public init(
        stateDirectory: String = SmbvolConfiguration.defaultStateDirectory,
        mountBase: String = SmbvolConfiguration.defaultMountBase,
        mountCommand: String = "/sbin/mount.cifs",
        umountCommand: String = "/bin/umount",
        qemuUser: String? = nil,
        qemuGroup: String? = nil,
        mountTimeoutSeconds: Double = 30,
        deadlineSeconds: Double = SmbvolConfiguration.defaultDeadlineSeconds,
        localAddresses: [String] = [],
        syslogSocket: String = "/dev/log",
        policy: PolicyConfiguration = PolicyConfiguration(),
        clusters: [String: ClusterConfiguration] = [:],
        shares: [String: ShareConfiguration] = [:],
        sourceFiles: [String] = []
    ) {
        self.stateDirectory = stateDirectory
        self.mountBase = mountBase
        self.mountCommand = mountCommand
        self.umountCommand = umountCommand
        self.qemuUser = qemuUser
        self.qemuGroup = qemuGroup
        self.mountTimeoutSeconds = mountTimeoutSeconds
        self.deadlineSeconds = deadlineSeconds
        self.localAddresses = localAddresses
        self.syslogSocket = syslogSocket
        self.policy = policy
        self.clusters = clusters
        self.shares = shares
        self.sourceFiles = sourceFiles
    }

    /// `heartbeat_fresh_seconds`, else 3 × `heartbeat_interval_seconds`.
    public var effectiveHeartbeatFreshSeconds: Double { heartbeatFreshSeconds ?? heartbeatIntervalSeconds * 3 }

    public static let defaultPath = "/etc/smbvol/smbvol.toml"
    public static let defaultStateDirectory = "/var/lib/smbvol"
    public static let defaultMountBase = "/var/lib/smbvol/mnt"
    public static let defaultJournalSocket = "/run/systemd/journal/socket"
}

/// A `[cluster.NAME]` table: how to reach and log in to one Qumulo cluster.
public struct ClusterConfiguration: Sendable, Equatable {
    public var name: String
    public var host: String
    public var port: Int
    /// PEM bundle to verify the cluster's certificate with, instead of the system CAs.
    public var caFile: String?
    /// Skip certificate verification. Only when explicitly set; logged as a warning on every run.
    public var insecure: Bool
    public var username: String?
    /// File holding the password (0600, first line used).
    public var passwordFile: String?
    /// File holding a long-lived access token (`access-v1:…`).
    public var accessTokenFile: String?
    /// Where the bearer token is stored (default: the qq CLI's credential store for this host).
    public var credentialsStore: String?
    /// Per-request timeout; the caller's overall deadline still applies.
    public var requestTimeoutSeconds: Double
    /// Path prefix the API is served under ("" by default; "/api" for clusters on port 443).
    public var apiPrefix: String = ""
    /// The fencing account (`fence_username` + `fence_password_file`, or
    /// `fence_access_token_file`): share-write and session-write privileges the hook's account
    /// must not hold. Only `smbvol fence`, `unfence` and `fence-agent` use it.
    public var fenceUsername: String?
    public var fencePasswordFile: String?
    public var fenceAccessTokenFile: String?
    /// The file that defined this cluster (for error messages).
    public var sourceFile: String

    public init(
        name: String, host: String, port: Int = 8000, caFile: String? = nil, insecure: Bool = false,
        username: String? = nil, passwordFile: String? = nil, accessTokenFile: String? = nil,
        credentialsStore: String? = nil, requestTimeoutSeconds: Double = 10, sourceFile: String = ""
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.caFile = caFile
        self.insecure = insecure
        self.username = username
        self.passwordFile = passwordFile
        self.accessTokenFile = accessTokenFile
        self.credentialsStore = credentialsStore
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.sourceFile = sourceFile
    }
}

/// A `[share.NAME]` table: one SMB share VM images live on.
public struct ShareConfiguration: Sendable, Equatable {
    public var name: String
    /// `//server/share[/subdir]`.
    public var export: String
    /// Name of the `[cluster.NAME]` serving it (optional when only one cluster is configured).
    public var cluster: String?
    /// The share's root as a cluster path; discovered from `/v3/smb/shares/` when absent.
    public var fsPath: String?
    /// Path of a mount.cifs credentials file (never the secret itself).
    public var credentials: String?
    /// Extra mount options, one per element (`vers=3.1.1`, `seal`, …).
    public var options: [String]
    /// Where to mount it; derived from the export under `mount_base` when absent.
    public var mountPoint: String?
    /// This host serves the share itself: use this path, mount nothing.
    public var localPath: String?
    /// Allow the `nobrl` option (it disables qemu's cross-host image locking).
    public var allowNobrl: Bool
    /// The file that defined this share (for error messages).
    public var sourceFile: String

    public init(
        name: String, export: String, cluster: String? = nil, fsPath: String? = nil,
        credentials: String? = nil, options: [String] = [], mountPoint: String? = nil,
        localPath: String? = nil, allowNobrl: Bool = false, sourceFile: String = ""
    ) {
        self.name = name
        self.export = export
        self.cluster = cluster
        self.fsPath = fsPath
        self.credentials = credentials
        self.options = options
        self.mountPoint = mountPoint
        self.localPath = localPath
        self.allowNobrl = allowNobrl
        self.sourceFile = sourceFile
    }
}

/// `[policy]`: how lock hygiene decides.
public struct PolicyConfiguration: Sendable, Equatable {
    public enum OnClusterError: String, Sendable, Equatable, CaseIterable {
        case `continue`
        case fail
    }

    /// A session idle longer than this no longer proves its client alive.
    public var staleAfterSeconds: Double
    /// Client addresses whose handles are never closed.
    public var protectedClients: [String]
    public var onClusterError: OnClusterError

    public init(staleAfterSeconds: Double = 180, protectedClients: [String] = [], onClusterError: OnClusterError = .continue) {
        self.staleAfterSeconds = staleAfterSeconds
        self.protectedClients = protectedClients
        self.onClusterError = onClusterError
    }
}
