/// Random identifiers for records and temporary file names (getrandom(2) underneath).
public enum RandomIdentifier {
    /// `count` lowercase hexadecimal characters.
    public static func hex(count: Int = 16) -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        return String((0..<max(0, count)).map { _ in digits[Int(generator.next() % 16)] })
    }
}
