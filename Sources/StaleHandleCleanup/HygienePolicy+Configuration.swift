import LockHygiene
import SmbvolConfig

extension HygienePolicy {
    /// The policy a run decides by, from the configuration: the one place `stale_after_seconds`
    /// and `heartbeat_fresh_seconds` reach the decider (a policy built field by field elsewhere
    /// could silently keep a default).
    public static func configured(_ configuration: SmbvolConfiguration, operation: HygieneOperation, force: Bool = false) -> HygienePolicy {
        var policy = HygienePolicy(operation: operation, staleAfterSeconds: configuration.policy.staleAfterSeconds, force: force)
        policy.heartbeatFreshSeconds = configuration.effectiveHeartbeatFreshSeconds
        return policy
    }
}
