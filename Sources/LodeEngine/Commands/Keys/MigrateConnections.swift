import Foundation
import LodeStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// MIGRATE's connections to its targets (Redis's migrate_cached_sockets): plain
/// blocking sockets used synchronously on the loop with a timeout per read and
/// write, as Redis's syncWrite/syncReadLine, kept for 10 seconds after their last
/// use and at most 64 of them. Hand-written on POSIX sockets: MIGRATE blocks its
/// server by design, which a NIO channel would not let the loop do.
final class MigrateConnections {
    struct Target: Hashable {
        let host: String
        let port: String
    }

    final class Connection {
        let fd: Int32
        /// The database last SELECTed on it (-1: unknown).
        var lastDB = -1
        var lastUse = currentTimeMillis()
        /// Whether the last failed read or write timed out (no retry then, as Redis).
        private(set) var timedOut = false
        private var buffer: [UInt8] = []

        init(fd: Int32) { self.fd = fd }
        deinit { Glibc.close(fd) }

        func write(_ data: ByteBuffer, timeout: Int) -> Bool {
            var bytes = Array(data.readableBytesView)[...]
            let deadline = currentTimeMillis() + Int64(timeout)
            while !bytes.isEmpty {
                guard wait(POLLOUT, until: deadline) else { return false }
                let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, min($0.count, 64 * 1024), Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return false }
                bytes = bytes.dropFirst(n)
            }
            return true
        }

        /// One reply line without its CRLF (the replies to AUTH, SELECT and RESTORE are
        /// single lines), or nil on an error or timeout.
        func readLine(timeout: Int) -> String? {
            let deadline = currentTimeMillis() + Int64(timeout)
            while true {
                if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    var line = Array(buffer[..<nl])
                    buffer.removeFirst(nl + 1)
                    if line.last == UInt8(ascii: "\r") { line.removeLast() }
                    return String(decoding: line, as: UTF8.self)
                }
                guard buffer.count < 1 << 20, wait(POLLIN, until: deadline) else { return nil }
                var chunk = [UInt8](repeating: 0, count: 16 * 1024)
                let n = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return nil }
                buffer += chunk[..<n]
            }
        }

        private func wait(_ event: Int32, until deadline: Int64) -> Bool {
            var p = pollfd(fd: fd, events: Int16(event), revents: 0)
            while true {
                let left = deadline - currentTimeMillis()
                if left <= 0 { timedOut = true; return false }
                let r = poll(&p, 1, Int32(min(left, Int64(Int32.max))))
                if r > 0 { return p.revents & Int16(event) != 0 || p.revents & Int16(POLLHUP) != 0 }
                if r == 0 { timedOut = true; return false }
                if errno != EINTR { return false }
            }
        }
    }

    static let ttlMillis: Int64 = 10_000
    static let capacity = 64
    private var cached: [Target: Connection] = [:]

    var count: Int { cached.count }

    /// The cached connection to `target`, or a new one connected within `timeout` ms.
    func connection(to target: Target, timeout: Int) -> Connection? {
        if let c = cached[target] {
            c.lastUse = currentTimeMillis()
            return c
        }
        if cached.count >= Self.capacity, let victim = cached.keys.randomElement() { cached[victim] = nil }
        guard let fd = Self.connect(target, timeout: timeout) else { return nil }
        let c = Connection(fd: fd)
        cached[target] = c
        return c
    }

    func close(_ target: Target) { cached[target] = nil }

    /// serverCron's migrateCloseTimedoutSockets.
    func closeIdle(now: Int64) {
        cached = cached.filter { now - $0.value.lastUse <= Self.ttlMillis }
    }

    private static func connect(_ target: Target, timeout: Int) -> Int32? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(target.host, target.port, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var ai: UnsafeMutablePointer<addrinfo>? = first
        let deadline = currentTimeMillis() + Int64(timeout)
        while let a = ai {
            ai = a.pointee.ai_next
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd < 0 { continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 || errno == EINPROGRESS {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let left = max(1, deadline - currentTimeMillis())
                // Writable is connected, as Redis's blocking connect judges it: a refused
                // connection then fails at the first write ("error ... writing"), as there.
                if poll(&p, 1, Int32(min(left, Int64(Int32.max)))) == 1 {
                    var one: Int32 = 1
                    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    return fd
                }
            }
            Glibc.close(fd)
        }
        return nil
    }
}
