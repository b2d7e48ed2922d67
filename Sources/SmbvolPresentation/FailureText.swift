import HandleEvidence
import StaleHandleCleanup
import SmbvolLogging
import SmbvolUseCases

/// The one line a failure is shown as, made here and nowhere else from the use cases' typed
/// failures: after `smbvol: ` on the hook's stderr (libvirt shows it; the hook logs the same
/// line), after `smbvol: refused: ` for `attach`, after `smbvol: error: ` for every command.
/// The evidence inside a refusal keeps the words of the decider and the collectors
/// (`ImageHolder.Evidence.description`, which the audit events carry too).
public enum FailureText {
    /// A refused start: every holder with its evidence; nothing was closed.
    public static func text(_ refusal: StartRefusal) -> String {
        let domain = refusal.domainName
        if let notAsked = refusal.clusterNotAsked {
            return LineEscaping.oneLine(
                "refusing to start \(domain): \(notAsked) and \(refusal.holders.map(\.description).joined(separator: "; ")). Nothing was closed; stop it there, or wait until its heartbeat or claim goes stale."
            )
        }
        // The cluster decided: one holder per refused image, grouped by what shows it alive.
        var handleParts: [String] = []
        var claimParts: [String] = []
        var unreadParts: [String] = []
        for holder in refusal.holders {
            let part = "\(holder.image) (\(holder.clusterPath ?? "?")): \(holder.evidence)"
            switch holder.evidence {
            case .liveHandle, .undecided, .freshHeartbeat: handleParts.append(part)
            case .freshClaim: claimParts.append(part)
            case .unreadableClaims: unreadParts.append(part)
            }
        }
        var reasons: [String] = []
        if !handleParts.isEmpty { reasons.append("live SMB handles on \(handleParts.joined(separator: "; "))") }
        if !claimParts.isEmpty {
            reasons.append(
                "a holder proven alive by its claim (no handle needed) on \(claimParts.joined(separator: "; ")) — stop the domain there, or wait until its claim goes stale")
        }
        if !unreadParts.isEmpty {
            reasons.append(
                "holder claims that could not be read on \(unreadParts.joined(separator: "; ")) — remove what does not belong in the claim directory, or --force if no other host runs the image")
        }
        return LineEscaping.oneLine(
            "refusing to start \(domain): \(reasons.joined(separator: "; and ")). Nothing was closed; stop the other holder, or see `smbvol check --domain \(domain)`.")
    }

    /// A start (or incoming migration, or hot-attach) that failed; what it took was given back.
    public static func text(_ failure: StartFailure) -> String {
        let domain = failure.domainName
        switch failure.reason {
        case .hungMount(let error): return failed(failure, error)
        case .other(let error): return failed(failure, error)
        case .clusterUnavailable(let error):
            return "cannot ask the Qumulo cluster about \(domain)'s images (on_cluster_error = fail): \(LineEscaping.oneLine("\(error)"))"
        case .staleHandleNotClosed(let location, let reason):
            return "stale SMB handle \(location) could not be closed (\(reason)); qemu would not get its image lock — see `smbvol check --domain \(domain)`"
        case .invalid(let error):
            return "\(error)"
        case .lockStore(let error):
            return LineEscaping.oneLine("\(error)")
        case .migrationMarkNotRecorded(let error):
            return LineEscaping.oneLine("\(failure.operation.rawValue) of \(domain): could not record the migration mark (\(error))")
        }
    }

    /// `start of web01 failed: …`: a failure the start only passes on.
    private static func failed(_ failure: StartFailure, _ error: any Error) -> String {
        "\(failure.operation.rawValue) of \(failure.domainName) failed: \(LineEscaping.oneLine("\(error)"))"
    }

    /// Shares a `detach` or `reconcile` left mounted.
    public static func text(_ failure: SharesLeftMounted) -> String {
        let shares = failure.failures.joined(separator: "; ")
        switch failure.after {
        case .detach: return "left mounted: \(shares)"
        case .reconcile: return "could not unmount: \(shares)"
        }
    }

    /// What stopped a hook run.
    public static func text(_ failure: HookFailure) -> String {
        switch failure {
        case .refused(let refusal): return text(refusal)
        case .failed(let failure): return text(failure)
        case .stopped(let error): return LineEscaping.oneLine("\(error)")
        }
    }

    /// Any error a command ends with: the typed failures by their text, every other error by
    /// its description.
    public static func text(of error: any Error) -> String {
        switch error {
        case let refusal as StartRefusal: return text(refusal)
        case let failure as StartFailure: return text(failure)
        case let failure as SharesLeftMounted: return text(failure)
        case let failure as HookFailure: return text(failure)
        default: return "\(error)"
        }
    }

    /// `smbvol: error: …`, the line every command ends with on an error (exit 1): secrets
    /// redacted, one line.
    public static func errorLine(_ error: any Error) -> String {
        "smbvol: error: \(LineEscaping.oneLine(SecretRedactor.shared.redact(text(of: error))))"
    }

    /// `smbvol: refused: …`, the line of a refused `attach` (exit 3).
    public static func refusedLine(_ refusal: StartRefusal) -> String {
        "smbvol: refused: \(text(refusal))"
    }

    /// The hook's one stderr line for what stopped the run (libvirt shows it as the VM start's
    /// error), one line whatever the failure carries (a cluster's reason, an error's own text);
    /// nil when nothing did.
    public static func hookLine(_ failure: HookFailure?) -> String? {
        failure.map { "smbvol: " + LineEscaping.oneLine(text($0)) }
    }
}
