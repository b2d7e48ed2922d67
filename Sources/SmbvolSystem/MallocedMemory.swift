#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory a C library allocated with malloc(3) and handed over to its caller (libvirt's XML
/// text, its domain lists): released with free(3) once read.
public enum MallocedMemory {
    public static func release(_ pointer: UnsafeMutableRawPointer?) { free(pointer) }
}
