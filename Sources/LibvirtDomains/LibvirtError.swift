import CLibvirt

/// A failed libvirt call: which call, and libvirt's own message, on one line.
public struct LibvirtError: Error, Sendable, Equatable, CustomStringConvertible {
    public var call: String
    public var message: String
    /// libvirt's `virErrorNumber` (e.g. 42 = no such domain), 0 when unknown.
    public var code: Int32

    public init(call: String, message: String, code: Int32 = 0) {
        self.call = call
        self.message = message
        self.code = code
    }

    public var isNoSuchDomain: Bool { code == Int32(VIR_ERR_NO_DOMAIN.rawValue) }

    public var description: String { "libvirt \(call) failed: \(message)" }

    /// The thread's last libvirt error (read right after the failing call), then reset.
    static func last(_ call: String) -> LibvirtError {
        guard let libvirt = try? LibvirtLibrary.get(), let error = libvirt.getLastError() else {
            return LibvirtError(call: call, message: "unknown error")
        }
        let message = error.pointee.message.map { String(cString: $0) } ?? "unknown error"
        let code = error.pointee.code
        libvirt.resetLastError()
        let line = message.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
        return LibvirtError(call: call, message: line, code: code)
    }
}
