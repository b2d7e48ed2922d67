import LockHygiene
import QumuloClient
import SmbvolUseCases

/// What `handles list` and `handles close` say besides the listing itself.
public enum HandleText {
    /// `handles list`'s warnings, one stderr line each (prefix included): handles of other files
    /// the cluster listed, a repeated paging link, and — one line however many — the evidence
    /// the account could not read.
    public static func listingWarnings(_ outcome: ListHandles.Outcome) -> [String] {
        var lines: [String] = []
        if outcome.foreignHandles > 0, let fileNumber = outcome.fileNumber {
            lines.append("smbvol: warning: the cluster listed \(outcome.foreignHandles) handle(s) of other files for file_number \(fileNumber); not shown")
        }
        for case .stoppedOnRepeatedNext(let next) in outcome.incomplete {
            lines.append("smbvol: warning: the cluster repeated a paging link (\(next)); the listing may be incomplete")
        }
        if !outcome.missing.isEmpty { lines.append("smbvol: warning: " + outcome.missing.map(\.summary).joined(separator: "; ")) }
        return lines
    }

    /// `handles close`: the handles lock hygiene keeps or refuses (`--stale-only`).
    public static func keptLines(_ plan: CloseHandlesByHand.Plan) -> [String] {
        plan.kept.map { "\($0.action == .refuse ? "refuse" : $0.action.rawValue) \($0.handle.location): \($0.reason)" }
    }

    /// `handles close`: what will (or, with `--dry-run`, would) be closed.
    public static func targetLines(_ plan: CloseHandlesByHand.Plan, dryRun: Bool) -> [String] {
        plan.targets.map { "\(dryRun ? "would close" : "will close") \($0.location)\($0.detail.isEmpty ? "" : " (\($0.detail))")" }
    }

    /// `handles close`: what was closed, and what was not and why.
    public static func closedLines(_ report: CloseReport) -> [String] {
        report.closed.map { "closed \($0)" } + report.failed.map { "not closed \($0.location): \($0.reason)" }
    }
}
