#if canImport(Glibc)
import Glibc
#endif

/// The controlling terminal: whether a descriptor is one (progress lines and prompts only then),
/// and a password read from it without echo.
public enum Terminal {
    public static func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }

    /// What the user typed after `prompt` (not echoed); nil when the terminal could not be read.
    public static func readPassword(prompt: String) -> String? {
        getpass(prompt).map { String(cString: $0) }
    }
}
