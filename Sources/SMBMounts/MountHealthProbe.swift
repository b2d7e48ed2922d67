#if canImport(Glibc)
import Glibc
#endif

public enum MountHealth: Sendable, Equatable {
    case healthy
    /// The mount answers with an error that means the connection behind it is gone.
    case dead(errno: Int32)
}

/// Tells a live mount from a dead one (stat on a dead CIFS mount fails with EHOSTDOWN, ESTALE,
/// EIO or ENOTCONN).
public protocol MountHealthProbing: Sendable {
    func health(of mountPoint: String) -> MountHealth
}

public struct StatMountHealthProbe: MountHealthProbing {
    public init() {}

    public static let deadErrors: Set<Int32> = [EHOSTDOWN, ESTALE, EIO, ENOTCONN]

    public func health(of mountPoint: String) -> MountHealth {
        var info = stat()
        if stat(mountPoint, &info) == 0 { return .healthy }
        let code = errno
        return Self.deadErrors.contains(code) ? .dead(errno: code) : .healthy
    }
}
