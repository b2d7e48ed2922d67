import SmbvolSystem

extension ShareAttachmentService {
    /// Runs `body` with whether `share` is mounted, holding the share's flock (the one mounting
    /// and unmounting take): a heartbeat never writes on a share that is being unmounted, and
    /// never makes an unmount fail as busy. A `local_path` share needs no flock.
    public func whileShareHeld<T>(_ share: ShareTarget, timeout: Duration, _ body: (_ mounted: Bool) throws -> T) throws -> T {
        if share.isLocal { return try body(true) }
        var bounded = self
        bounded.shareLockTimeout = timeout
        return try bounded.withShareLock(share, deadline: .none) { try body(try mounter.isMounted(share)) }
    }
}
