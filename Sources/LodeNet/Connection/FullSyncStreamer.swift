import Foundation
import LodeEngine
import LodeStore
import NIOCore

/// Sends a SYNC/PSYNC payload: the RDB file of an LMDB snapshot, written on a thread
/// of its own straight to the socket, a window of writes in flight at a time, so
/// memory stays bounded whatever the dataset and the loop is never blocked. With
/// `capa eof` the payload is framed as Redis's disk-less sync frames it
/// (`$EOF:<40 random characters>`, the payload, the same 40 characters); otherwise
/// it is spooled to a temporary file first and sent as `$<length>`, as a disk-based
/// sync does. Then the connection is closed.
enum FullSyncStreamer {
    static let markLength = 40
    /// Writes allowed in flight before the thread waits for the oldest (256 KB each).
    static let window = 8

    static func start(_ request: FullSyncRequest, snapshot: StoreSnapshot, channel: Channel, log: @escaping (String) -> Void) {
        let thread = Thread {
            do {
                try stream(request, snapshot: snapshot, channel: channel)
                log("Synchronization with replica succeeded")
            } catch {
                log("Synchronization with replica failed: \(error)")
            }
            snapshot.close()
            channel.close(promise: nil)
        }
        thread.name = "lode-sync"
        thread.start()
    }

    private static func stream(_ request: FullSyncRequest, snapshot: StoreSnapshot, channel: Channel) throws {
        var inFlight: [EventLoopFuture<Void>] = []
        func send(_ bytes: some Collection<UInt8>) throws {
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            inFlight.append(channel.writeAndFlush(buffer))
            if inFlight.count >= window { try inFlight.removeFirst().wait() }
        }
        if let preamble = request.preamble { try send(Array(preamble.utf8)) }
        if request.eofMark {
            let alphabet = Array("0123456789abcdef".utf8)
            let mark = (0..<markLength).map { _ in alphabet.randomElement()! }
            try send(Array("$EOF:".utf8) + mark + Array("\r\n".utf8))
            try RDBExport.write(from: snapshot, options: request.options, sink: { try send($0) })
            try send(mark)
        } else {
            let path = request.spoolDirectory + "/temp-sync-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).rdb"
            defer { unlink(path) }
            try RDBSaves.writeFile(path) { sink in try RDBExport.write(from: snapshot, options: request.options, sink: sink) }
            guard let file = FileHandle(forReadingAtPath: path) else { throw SyncError("cannot reopen \(path)") }
            defer { try? file.close() }
            let length = try file.seekToEnd()
            try file.seek(toOffset: 0)
            try send(Array("$\(length)\r\n".utf8))
            while let chunk = try file.read(upToCount: 256 * 1024), !chunk.isEmpty { try send(chunk) }
        }
        for f in inFlight { try f.wait() }
    }

    struct SyncError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}
