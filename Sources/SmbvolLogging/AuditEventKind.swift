import Logging

/// The kinds of audit event, as `event=` on the line and `SMBVOL_EVENT` in the journal.
///
/// Each kind has a stable journal MESSAGE_ID (128 bits, generated once with `uuid4().hex` and
/// fixed here; docs/operations.md lists them): `journalctl MESSAGE_ID=…` finds every event of a kind
/// whatever the wording of its message. Never change an id; add a new kind with a new id.
public enum AuditEventKind: String, Sendable, CaseIterable {
    /// A handle force-closed because lock hygiene found it stale, or by an operator's request.
    case close
    /// A close that the cluster refused, failed, or that was still listed afterwards.
    case closeFailed = "close-failed"
    /// A start refused because a live client holds an image (nothing closed).
    case refuse
    /// A live or unattributable handle closed because the operator forced it (`--force`).
    case forcedClose = "forced-close"
    case mount
    case mountFailed = "mount-failed"
    case unmount
    /// `umount -l` of a busy share (`--force` only).
    case unmountLazy = "unmount-lazy"
    /// `smbvol unmount --force` of a share that still has attachment locks.
    case unmountForced = "unmount-forced"
    case unmountFailed = "unmount-failed"
    /// A mount that no longer answers (EHOSTDOWN, ESTALE, EIO, ENOTCONN), unmounted to mount again.
    case deadMount = "dead-mount"
    case lockAdd = "lock-add"
    case lockDelete = "lock-delete"
    /// A lock put back because its share stayed mounted (busy) after a release.
    case lockKept = "lock-kept"
    /// The attachment lock store could not be changed during a release.
    case releaseFailed = "release-failed"
    /// `smbvol heartbeat` could not write this host's liveness record on a share.
    case heartbeatFailed = "heartbeat-failed"
    /// An entry of a heartbeat record (an image, a domain name, an address) left out because
    /// readers refuse it; the rest of the record stands.
    case heartbeatEntryDropped = "heartbeat-entry-dropped"
    /// A heartbeat record with this host's host_id that lists addresses this host does not
    /// have: two hosts share a host_id (a cloned /etc/machine-id). Counted as another host.
    case hostIDCollision = "host-id-collision"
    /// A DENIED entry for a fenced host's addresses put first in a share's host restrictions.
    case fence
    /// An SMB session of a fenced address closed.
    case fenceSessionClose = "fence-session-close"
    /// A fence read back from the cluster: the entry is there and no session is left.
    case fenceVerified = "fence-verified"
    /// A fence, unfence or its verification that did not complete.
    case fenceFailed = "fence-failed"
    /// A fence refused (it would shut out this host, the cluster, or everyone).
    case fenceRefused = "fence-refuse"
    /// smbvol's DENIED entry removed from a share's host restrictions.
    case unfence
    /// A start closed another host's handles on an image and left a takeover record on the share.
    case takeoverRecorded = "takeover-recorded"
    /// The takeover record could not be written (the start goes on).
    case takeoverRecordFailed = "takeover-record-failed"
    /// The heartbeat service stopped (paused, destroyed) or, with `on_takeover = "log"`, only
    /// reported a domain whose image another host took over, its own handle confirmed gone.
    case takeoverStop = "takeover-stop"
    /// A takeover record naming this host that stops nothing: this host still holds its
    /// handle, the cluster cannot tell, the record is older than the domain's lock, malformed
    /// or forged, or the stop itself failed.
    case takeoverIgnored = "takeover-ignored"
    /// The heartbeat service found a gap in its own beats (host paused, suspended or starved):
    /// takeovers are checked at once.
    case beatsInterrupted = "beats-interrupted"

    public var messageID: String {
        switch self {
        case .close: return "8e92e60f504c4cb8907a08d372f3c658"
        case .closeFailed: return "520c0772928a4f76b3c0ab6ac1e92e4d"
        case .refuse: return "1d16e30a39ef431ab02906e9bfea729a"
        case .forcedClose: return "cca86efab79d4d3788b064aa2eac1aa8"
        case .mount: return "45cbc8622cfc430fa5836d0e0e8e614b"
        case .mountFailed: return "1aa4f7a2556a4d56b0119dcf786be1bf"
        case .unmount: return "08e4dda4d6a94f10bfee6027ed24dfed"
        case .unmountLazy: return "5d284872e39a4b2bb6c345f73afe902f"
        case .unmountForced: return "3d20df41005c4af399303a42ffdb9823"
        case .unmountFailed: return "3f7d792ecc61440faafa620d64c46029"
        case .deadMount: return "4b987887e5254df5b10ecb32e6dce765"
        case .lockAdd: return "312182ecf4e741f4bdb36a7bb4d6556f"
        case .lockDelete: return "9b3268a96d4f43d281f9efa223f26a16"
        case .lockKept: return "e2b5ee6ebd3740b9b894f5c6171d2cdf"
        case .releaseFailed: return "ec3f60381cd4490c9ce6dc3657d9be03"
        case .heartbeatFailed: return "5f84b19bfcfd4fd4b698cbf3a8e895ac"
        case .heartbeatEntryDropped: return "23edd04d3abe47a99b911d46e1177368"
        case .hostIDCollision: return "3fd0a5b323ea43878ca6206db19c95cd"
        case .fence: return "b589ed6e465642bbaf0d8f61b2f016ab"
        case .fenceSessionClose: return "75c9fb0456294760a82c70194979268a"
        case .fenceVerified: return "491318399f1c46709648cc0bf5c0badf"
        case .fenceFailed: return "571aa0fd994943d2857a404b60bff15b"
        case .fenceRefused: return "996fb4e6979d4f18a3b61650001980db"
        case .unfence: return "6826c33a28b248859b9855dac9d19d57"
        case .takeoverRecorded: return "d7b68846e2d84b02a5467acc8e036724"
        case .takeoverRecordFailed: return "cc792b09ac1c45b595d81a4120e75327"
        case .takeoverStop: return "acc50b2ee7c6497a9a276357c4fff8be"
        case .takeoverIgnored: return "a5b3dc6a63c342d09992b6bc2399d920"
        case .beatsInterrupted: return "0e8c5359d78242b48c7c49181b2fb584"
        }
    }

    /// Notice for what was done as intended; warning for refusals, forced and kept; error for
    /// failures. (Notice and up reach syslog/journal from every command.)
    public var defaultLevel: Logger.Level {
        switch self {
        case .close, .mount, .unmount, .lockAdd, .lockDelete, .fenceSessionClose, .fenceVerified, .unfence, .takeoverRecorded: return .notice
        case .refuse, .forcedClose, .unmountLazy, .unmountForced, .deadMount, .lockKept, .heartbeatEntryDropped, .fence, .fenceRefused,
            .takeoverRecordFailed, .takeoverIgnored, .beatsInterrupted:
            return .warning
        case .closeFailed, .mountFailed, .unmountFailed, .releaseFailed, .heartbeatFailed, .hostIDCollision, .fenceFailed, .takeoverStop: return .error
        }
    }
}
