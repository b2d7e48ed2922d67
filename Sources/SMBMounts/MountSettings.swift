import SmbvolConfig

/// The parts of the configuration the mount layer needs.
public struct MountSettings: Sendable, Equatable {
    public var mountCommand: String
    public var umountCommand: String
    public var mountTimeout: Duration
    /// Temporary credentials files go to `<state_dir>/credentials` (0700).
    public var credentialsDirectory: String
    public var mountBase: String

    public init(
        mountCommand: String, umountCommand: String, mountTimeout: Duration, credentialsDirectory: String,
        mountBase: String
    ) {
        self.mountCommand = mountCommand
        self.umountCommand = umountCommand
        self.mountTimeout = mountTimeout
        self.credentialsDirectory = credentialsDirectory
        self.mountBase = mountBase
    }

    public init(configuration: SmbvolConfiguration) {
        self.init(
            mountCommand: configuration.mountCommand, umountCommand: configuration.umountCommand,
            mountTimeout: .milliseconds(Int64(configuration.mountTimeoutSeconds * 1000)),
            credentialsDirectory: configuration.stateDirectory + "/credentials", mountBase: configuration.mountBase)
    }
}

/// What `ShareMounter.ensureMounted` found or did.
public enum MountOutcome: Sendable, Equatable {
    /// A `local_path` share: nothing mounted.
    case local
    case alreadyMounted
    case mounted
    /// A dead mount was unmounted and the share mounted again.
    case remounted

    /// Whether this call mounted something (and so may have to undo it).
    public var mountedNow: Bool { self == .mounted || self == .remounted }
}
