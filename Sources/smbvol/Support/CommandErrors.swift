import ArgumentParser
import SmbvolLogging

/// Runs a command body; any error becomes one line `smbvol: error: …` on stderr and exit 1
/// (an ExitCode passes through unchanged). Input checks belong in `validate()`, where a
/// ValidationError prints usage; inside `run` it is an error like any other.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        writeToStandardError("smbvol: error: \(oneLine(SecretRedactor.shared.redact("\(error)")))\n")
        throw ExitCode.failure
    }
}

/// One line for stderr or a log value: the single escaping rule of SmbvolLogging (line breaks,
/// CR LF included, become a space; controls and escape sequences become visible).
func oneLine(_ text: String) -> String { LineEscaping.oneLine(text) }

/// A failure a use case reported as a message: one line `smbvol: error: MESSAGE`, exit 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
