import ArgumentParser
import SmbvolConfig
import SmbvolLogging
import SmbvolPresentation
import SmbvolSystem
import SmbvolUseCases
import SmbvolWiring

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

    @OptionGroup var options: OperatorOptions

    @Flag(name: .long, help: "Write once and exit.")
    var once = false

    @Option(name: .long, help: ArgumentHelp("Seconds between beats (default: heartbeat_interval_seconds, 10).", valueName: "seconds"))
    var every: Double?

    func validate() throws {
        if once && every != nil { throw ValidationError("give --once or --every SECONDS, not both") }
        if let every, !(every > 0 && every.isFinite) { throw ValidationError("--every must be a positive number of seconds") }
    }

    func run() throws {
        let signals = TerminationSignals()
        if !once { signals.block() }
        var service = try options.run(whenMissing: .warnAndUseDefaults) { configuration, logger in
            try HeartbeatService(configuration: configuration, logger: logger)
        }
        guard once else {
            service.run(interval: every ?? service.beat.configuration.heartbeatIntervalSeconds, wait: signals.wait(seconds:))
            return
        }
        let round = service.once()
        // Audit events reach the system log only: what an operator running --once must see
        // goes to stderr too.
        for line in HeartbeatText.onceLines(round) { writeToStandardError(line + "\n") }
        if !round.beat.failed.isEmpty { throw ExitCode.failure }
    }
}
