import ArgumentParser
import SmbvolLogging
import SmbvolPresentation

/// Runs a command body; any error becomes one line `smbvol: error: …` on stderr
/// (`FailureText.errorLine`, which renders the use cases' typed failures) and exit 1
/// (an ExitCode passes through unchanged). Input checks belong in `validate()`, where a
/// ValidationError prints usage; inside `run` it is an error like any other.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        writeToStandardError(FailureText.errorLine(error) + "\n")
        throw ExitCode.failure
    }
}

/// One line for stderr or a log value: the single escaping rule of SmbvolLogging (line breaks,
/// CR LF included, become a space; controls and escape sequences become visible).
func oneLine(_ text: String) -> String { LineEscaping.oneLine(text) }
