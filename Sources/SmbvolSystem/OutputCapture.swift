#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a child's stdout and stderr pipes until EOF, keeping at most `limit` bytes of each.
struct OutputCapture {
    private var descriptors: [Int32]
    private var buffers: [[UInt8]] = [[], []]
    private let limit: Int
    private let pipes: [Pipe]

    init(output: Pipe, errors: Pipe, limit: Int) {
        pipes = [output, errors]
        descriptors = [output.readEnd, errors.readEnd]
        self.limit = limit
    }

    var finished: Bool { descriptors.allSatisfy { $0 < 0 } }

    func text(of index: Int) -> String { String(decoding: buffers[index], as: UTF8.self) }

    mutating func poll(timeoutMilliseconds: Int32) {
        var entries = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let ready = Glibc.poll(&entries, nfds_t(entries.count), timeoutMilliseconds)
        guard ready > 0 else { return }
        for index in entries.indices where entries[index].fd >= 0 && entries[index].revents != 0 {
            readAvailable(index)
        }
    }

    /// Keeps reading until both pipes reach EOF or `until` passes.
    mutating func drain(until: MonotonicInstant, clock: any MonotonicClock) {
        while !finished && clock.now() < until { poll(timeoutMilliseconds: 20) }
    }

    mutating func closeAll() {
        for index in descriptors.indices where descriptors[index] >= 0 {
            close(descriptors[index])
            descriptors[index] = -1
        }
    }

    private mutating func readAvailable(_ index: Int) {
        do {
            let chunk = try FileDescriptorIO.readSome(descriptors[index], maximumCount: 4096)
            if !chunk.isEmpty {
                let room = max(0, limit - buffers[index].count)
                buffers[index].append(contentsOf: chunk.prefix(room))
                return
            }
        } catch where error.code == EAGAIN {
            return  // poll said readable, the read found nothing after all: poll again
        } catch {}
        // End of file, or the pipe failed: either way nothing more comes from it.
        close(descriptors[index])
        descriptors[index] = -1
    }
}
