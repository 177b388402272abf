import NIOCore

/// Clients blocked on keys, in the order they blocked (Redis serves the longest
/// waiting client first).
final class BlockingRegistry {
    private struct Key: Hashable {
        let db: UInt8
        let key: ByteBuffer
    }

    /// Client IDs waiting on each key, oldest first.
    private var waiting: [Key: [Int]] = [:]
    private var keysOf: [Int: [Key]] = [:]
    private var serving = false

    /// Clients waiting in a blocking command.
    var count: Int { keysOf.count }

    func add(_ client: Int, keys: [(UInt8, ByteBuffer)]) {
        var ks: [Key] = []
        for (db, key) in keys {
            let k = Key(db: db, key: key)
            if ks.contains(k) { continue }
            ks.append(k)
            waiting[k, default: []].append(client)
        }
        keysOf[client] = ks
    }

    func remove(_ client: Int) {
        for k in keysOf.removeValue(forKey: client) ?? [] {
            waiting[k]?.removeAll { $0 == client }
            if waiting[k]?.isEmpty == true { waiting.removeValue(forKey: k) }
        }
    }

    /// Serves clients blocked on the keys that received data, oldest first, until
    /// a key runs dry. Runs after the command that pushed, so that command's
    /// effect is complete (an LPUSH of three elements serves three waiters).
    func serve(_ server: ServerState) {
        guard !serving else { return }
        serving = true
        defer { serving = false }
        while !server.touchedKeys.isEmpty {
            let (db, key) = server.touchedKeys.removeFirst()
            let k = Key(db: db, key: key)
            while let first = waiting[k]?.first {
                guard let session = server.sessions[first] else {
                    remove(first)  // gone without saying so: cannot happen, but never spin
                    continue
                }
                if session.retryBlocked() { break }  // nothing left for it: the key is dry
            }
        }
    }
}

