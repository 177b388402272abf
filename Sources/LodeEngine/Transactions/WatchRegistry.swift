import LodeStore
import NIOCore

/// One client's WATCH: the keys, and whether one was touched since.
struct WatchState {
    struct Key {
        /// The logical database (SELECT index) it was watched in: the watch stays
        /// with the index, as in Redis, even when SWAPDB moves the data.
        let db: Int
        let key: ByteBuffer
        /// The key was present but already expired at WATCH time (Redis 7.0:
        /// such a key does not fail EXEC by expiring).
        var expiredAtWatch: Bool
    }

    var keys: [Key] = []
    /// Redis's CLIENT_DIRTY_CAS.
    var dirty = false
}

/// Which clients watch which keys, for WATCH/EXEC (Redis's db->watched_keys and
/// touchWatchedKey / touchAllWatchedKeysInDb, with their 7.0 semantics).
final class WatchRegistry {
    struct Key: Hashable {
        let db: Int
        let key: ByteBuffer
    }

    private var watchers: [Key: [Int]] = [:]
    var isEmpty: Bool { watchers.isEmpty }

    func watch(_ client: ClientState, db: Int, key: ByteBuffer, expired: Bool) {
        if client.watch.keys.contains(where: { $0.db == db && $0.key == key }) { return }
        client.watch.keys.append(WatchState.Key(db: db, key: key, expiredAtWatch: expired))
        watchers[Key(db: db, key: key), default: []].append(client.id)
    }

    func unwatchAll(_ client: ClientState) {
        for k in client.watch.keys {
            let key = Key(db: k.db, key: k.key)
            watchers[key]?.removeAll { $0 == client.id }
            if watchers[key]?.isEmpty == true { watchers.removeValue(forKey: key) }
        }
        client.watch.keys.removeAll()
    }

    /// A key was modified: its watchers' transactions will fail. A watch of a key
    /// that was already expired at WATCH time only ends its grace when the key
    /// expires away (`byExpiry`); Redis's writes first expire such a key lazily,
    /// then change it, so any write fails the transaction.
    func touch(db: Int, key: ByteBuffer, byExpiry: Bool, clients: [Int: ClientState]) {
        guard let ids = watchers[Key(db: db, key: key)] else { return }
        for id in ids {
            guard let client = clients[id],
                  let i = client.watch.keys.firstIndex(where: { $0.db == db && $0.key == key }) else { continue }
            if client.watch.keys[i].expiredAtWatch && byExpiry {
                client.watch.keys[i].expiredAtWatch = false
                continue
            }
            client.watch.dirty = true
            unwatchAll(client)
        }
    }

    /// FLUSHDB, FLUSHALL (`replacedWith` nil) or SWAPDB: every watched key of `db`
    /// that exists there, or in the database that takes its place, is touched.
    /// Called before the data changes. `state(db, key)` says whether a key is
    /// stored in a database and whether it has expired.
    func touchAll(db: Int, replacedWith other: Int?, clients: [Int: ClientState],
                  state: (Int, ByteBuffer) -> (exists: Bool, expired: Bool)) {
        for (key, ids) in watchers where key.db == db {
            let here = state(db, key.key)
            let there = other.map { state($0, key.key) } ?? (exists: false, expired: false)
            guard here.exists || there.exists else { continue }
            for id in ids {
                guard let client = clients[id],
                      let i = client.watch.keys.firstIndex(where: { $0.db == db && $0.key == key.key }) else { continue }
                if client.watch.keys[i].expiredAtWatch {
                    if !there.exists {
                        client.watch.keys[i].expiredAtWatch = false
                        continue
                    } else if there.expired {
                        continue
                    }
                } else if !here.exists && there.expired {
                    client.watch.keys[i].expiredAtWatch = true
                    continue
                }
                client.watch.dirty = true
            }
        }
    }

    /// EXEC: whether a key watched while alive has expired since (it may still be
    /// stored: expiry is lazy).
    func anyExpired(_ client: ClientState, isExpired: (Int, ByteBuffer) -> Bool) -> Bool {
        client.watch.keys.contains { !$0.expiredAtWatch && isExpired($0.db, $0.key) }
    }
}
