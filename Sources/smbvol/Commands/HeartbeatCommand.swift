import ArgumentParser
import HostHeartbeat
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

#if canImport(Glibc)
import Glibc
#endif

/// `smbvol heartbeat`: this host's liveness record on every mounted share (docs/stale-handle-policy.md,
/// "Heartbeat evidence"), once or as a service.
struct HeartbeatCommand: ParsableCommand, OwnsDeadline {
    static let deadline = CommandBounds.Deadline.none
    static let configuration = CommandConfiguration(
        commandName: "heartbeat",
        abstract: "Write this host's heartbeat record on every share smbvol has mounted (or serves through local_path).",
        discussion: """
            The record (under .smbvol/ at the share's root) names this host (host_id, else /etc/machine-id), \
            its addresses, the time, the interval and the images its attachment locks hold on the share. \
            Other hosts' starts refuse to close handles of an address a fresh record lists. Shares that are \
            not mounted are skipped; a failed write is logged (heartbeat-failed) and retried on the next beat. \
            Each share is probed first and beaten on its own thread within a bound, holding no flock: a hung \
            share is reported and the others are beaten on time. Entries other hosts' readers would refuse \
            (a domain name over 255 bytes, a path out of the share) are left out with a warning \
            (heartbeat-entry-dropped); a record of another host with this host's host_id is reported \
            (host-id-collision). \
            Run as a service: smbvol-heartbeat.service runs `smbvol heartbeat` (every heartbeat_interval_seconds); \
            SIGTERM ends it cleanly. \
            On every beat, and at once after a gap in its own beats (host paused or cut off), it reads the \
            takeover records of the images its domains use (.smbvol/takeovers/, left by another host's start \
            that closed this host's handles); when a record is newer than the domain's lock and the cluster \
            confirms this host no longer holds a handle on the file, the domain is stopped through libvirt \
            (libvirt_uri) per on_takeover: pause (default), destroy or log (takeover-stop). A record the \
            cluster does not confirm stops nothing (takeover-ignored). Exit status with --once: 0 written on every mounted share, 1 any failed.
            """)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions

    @Flag(name: .long, help: "Write once and exit.")
    var once = false

    @Option(name: .long, help: ArgumentHelp("Seconds between beats (default: heartbeat_interval_seconds, 10).", valueName: "seconds"))
    var every: Double?

    func validate() throws {
        if once && every != nil { throw ValidationError("give --once or --every SECONDS, not both") }
        if let every, !(every > 0 && every.isFinite) { throw ValidationError("--every must be a positive number of seconds") }
    }

    func run() throws {
        let logger = loggingOptions.bootstrap()
        // Blocked before anything starts a thread, so every thread inherits the mask and the
        // signals wait for sigtimedwait between beats: a write is never cut in half by SIGTERM.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        if !once { pthread_sigmask(SIG_BLOCK, &signals, nil) }
        var service = try reportingErrors {
            try HeartbeatService(configuration: try configOption.load(whenMissing: .warnAndUseDefaults), logger: logger)
        }
        guard once else {
            service.run(interval: every ?? service.beat.configuration.heartbeatIntervalSeconds) { Self.waitForSignal(signals, seconds: $0) }
            return
        }
        let round = service.once()
        for stopped in round.takeovers.stopped {
            writeToStandardError("smbvol: warning: TAKEOVER: domain \(stopped.domain) \(stopped.action): \(stopped.record)\n")
        }
        for warning in round.takeovers.warnings {
            writeToStandardError("smbvol: warning: \(warning)\n")
        }
        // Audit events reach the system log only: what an operator running --once must see
        // goes to stderr too.
        for failure in round.beat.failed {
            writeToStandardError("smbvol: error: heartbeat on share \(failure.share) not written: \(failure.reason)\n")
        }
        for (share, entry) in round.beat.dropped {
            writeToStandardError("smbvol: warning: heartbeat on share \(share): \(entry) (other hosts' readers would refuse it; the rest of the record is written)\n")
        }
        for (share, other) in round.beat.collisions {
            writeToStandardError(
                "smbvol: warning: heartbeat on share \(share): HOST_ID COLLISION: host \(other.hostname) at \(other.addresses.joined(separator: ", ")) "
                    + "writes records with this host's host_id \(other.hostID) (cloned /etc/machine-id?); give one of them a distinct host_id in smbvol.toml\n")
        }
        if !round.beat.failed.isEmpty { throw ExitCode.failure }
    }

    /// Sleeps up to `seconds` of wall-clock time, in slices of at most a second: a host paused or
    /// suspended during the wait beats (and checks for takeovers) as soon as it runs again, not
    /// a whole interval later. True when SIGTERM or SIGINT arrived.
    static func waitForSignal(_ signals: sigset_t, seconds: Double) -> Bool {
        let clock = SystemClock()
        let end = clock.wallClockSeconds() + seconds
        while true {
            let remaining = end - clock.wallClockSeconds()
            // Past the end, or the wall clock jumped back by more than the wait: beat now.
            if remaining <= 0 || remaining > seconds + 1 { return false }
            var set = signals
            let slice = min(1, remaining)
            let whole = Int(slice.rounded(.down))
            var timeout = timespec(tv_sec: whole, tv_nsec: Int((slice - Double(whole)) * 1e9))
            let result = sigtimedwait(&set, nil, &timeout)
            if result == SIGTERM || result == SIGINT { return true }
        }
    }
}
