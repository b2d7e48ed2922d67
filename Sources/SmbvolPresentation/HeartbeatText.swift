import HostHeartbeat
import SmbvolUseCases

/// What `heartbeat --once` says on stderr (audit events reach the system log only).
public enum HeartbeatText {
    /// Another host writes records with this host's host_id: shared by `heartbeat` and `holders`.
    public static func collision(hostname: String, addresses: [String], hostID: String) -> String {
        "HOST_ID COLLISION: host \(hostname) at \(addresses.joined(separator: ", ")) writes records with this host's host_id \(hostID) "
            + "(cloned /etc/machine-id?); give one of them a distinct host_id in smbvol.toml"
    }

    /// One stderr line each, prefix included: the domains a takeover stopped, the takeover
    /// watch's warnings, the shares not written, the entries dropped, the host_id collisions.
    public static func onceLines(_ round: HeartbeatRound) -> [String] {
        round.takeovers.stopped.map { "smbvol: warning: TAKEOVER: domain \($0.domain) \($0.action): \($0.record)" }
            + round.takeovers.warnings.map { "smbvol: warning: \($0)" }
            + round.beat.failed.map { "smbvol: error: heartbeat on share \($0.share) not written: \($0.reason)" }
            + round.beat.dropped.map {
                "smbvol: warning: heartbeat on share \($0.share): \($0.entry) (other hosts' readers would refuse it; the rest of the record is written)"
            }
            + round.beat.collisions.map {
                "smbvol: warning: heartbeat on share \($0.share): "
                    + collision(hostname: $0.record.hostname, addresses: $0.record.addresses, hostID: $0.record.hostID)
            }
    }
}
