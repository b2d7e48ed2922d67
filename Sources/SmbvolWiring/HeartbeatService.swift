import SmbvolUseCases
import HostHeartbeat
import LibvirtDomains
import Logging
import SmbvolConfig
import SmbvolLogging
import SmbvolMetrics
import SmbvolSystem

/// `smbvol heartbeat`: the beat on every mounted share, its metrics, and the takeover check of
/// this host's domains after each beat — once, or as a service until told to stop.
public struct HeartbeatService {
    public private(set) var beat: HeartbeatBeat
    public private(set) var watch: TakeoverWatch
    public let logger: Logger

    public init(configuration: SmbvolConfiguration, logger: Logger) throws {
        let hostID = try HostIdentity.hostID(configured: configuration.hostID)
        let attachments = CIFSShareAttachments(configuration: configuration)
        beat = HeartbeatBeat(configuration: configuration, hostID: hostID, logger: logger, attachments: attachments)
        // The cluster is asked through the configured clients, libvirt opened read-write only
        // to stop a domain (docs/stale-handle-policy.md, "After a takeover").
        watch = TakeoverWatch(
            configuration: configuration, hostID: hostID, logger: logger, attachments: attachments,
            ownHandles: ClusterOwnHandleCheck(
                clients: ConfiguredClusterClients(configuration: configuration), configuration: configuration,
                timeoutSeconds: max(5, configuration.heartbeatIntervalSeconds), logger: logger),
            domainControl: { try LibvirtConnection(readWrite: configuration.libvirtURI) })
        self.logger = logger
    }

    /// One beat and one takeover check.
    public mutating func once() -> HeartbeatRound {
        let outcome = beatAndRecord()
        let takeovers = watch.check(addresses: beat.addresses(), shareBound: beat.shareBound)
        Observability.flush()
        return HeartbeatRound(beat: outcome, takeovers: takeovers)
    }

    /// Beats every `interval` seconds until `wait` (given the seconds left until the next beat)
    /// says to stop. After a gap in its own beats (host paused or cut off) it looks for
    /// takeovers at once, before anything else — the beat's writes included.
    public mutating func run(interval: Double, wait: (Double) -> Bool) {
        logger.notice(
            "heartbeat started", metadata: ["event": "heartbeat-start", "host_id": "\(beat.hostID)", "interval_seconds": "\(interval)"])
        let clock = SystemClock()
        while true {
            let started = clock.now()
            if let gap = beat.interruption(now: clock.wallClockSeconds(), interval: interval) {
                var event = AuditEvent(
                    .beatsInterrupted, message: "this host's heartbeats were interrupted; checking for takeovers of its domains' images at once",
                    extra: ["gap_seconds": String(Int(gap)), "interval_seconds": "\(interval)"])
                event.extra["host_id"] = beat.hostID
                logger.audit(event)
                _ = watch.check(addresses: beat.addresses(), shareBound: beat.shareBound)
            }
            _ = beatAndRecord()
            _ = watch.check(addresses: beat.addresses(), shareBound: beat.shareBound)
            Observability.flush()
            if wait(max(0, interval - (clock.now() - started).secondsDouble)) { break }
        }
        logger.notice("heartbeat stopped", metadata: ["event": "heartbeat-stop", "host_id": "\(beat.hostID)"])
    }

    /// One beat, then smbvol_heartbeat_last_success_timestamp_seconds{share} for every share
    /// written, merged into the metrics file (when `metrics_file` is set) at once: a service
    /// that runs for weeks must not wait for its exit to publish.
    private mutating func beatAndRecord() -> HeartbeatBeat.Outcome {
        let outcome = beat.beat()
        let now = SystemClock().wallClockSeconds().rounded(.down)
        for share in outcome.written {
            MetricsRecorder.shared.recordHeartbeatSuccess(share: share, atSecondsSinceEpoch: now)
        }
        Observability.flush()
        return outcome
    }
}
