import LodeRESP
import LodeStore
import NIOCore

/// REPLCONF, SYNC and PSYNC as far as a full resynchronization's snapshot goes: what
/// `redis-cli --rdb` (REPLCONF capa eof, REPLCONF rdb-only 1, SYNC) and other
/// backup tools read. The payload is an RDB file streamed from an LMDB snapshot
/// taken after the turn commits (the network layer sends it: ClientSession.onFullSync),
/// and the connection closes after it, as Redis closes an rdb-only replica's.
/// Feeding a replica the write stream afterwards is replication's (not built yet):
/// so PSYNC is served only to rdb-only clients.
enum SyncCommands {
    static let handlers: [String: CommandHandler] = [
        "replconf": replconf,
        "sync": { (c: inout CommandContext) throws(CommandError) in try sync(&c, psync: false) },
        "psync": { (c: inout CommandContext) throws(CommandError) in try sync(&c, psync: true) },
    ]

    /// REPLCONF <option> <value> ... (replicationCommand's replconfCommand).
    static func replconf(_ c: inout CommandContext) throws(CommandError) {
        guard c.args.count % 2 == 1 else { throw .syntax }
        for j in stride(from: 1, to: c.args.count, by: 2) {
            if c.argIs(j, "listening-port") || c.argIs(j, "ip-address") {
                continue
            } else if c.argIs(j, "capa") {
                if c.argIs(j + 1, "eof") { c.client.replica.capaEOF = true }
            } else if c.argIs(j, "rdb-only") {
                let v = try c.integer(j + 1)
                guard v == 0 || v == 1 else { throw CommandError("ERR value is out of range, value must between 0 and 1") }
                c.client.replica.rdbOnly = v == 1
            } else if c.argIs(j, "ack") || c.argIs(j, "getack") {
                return  // a replica's acknowledgements: no reply, and nothing to do on a master without replicas
            } else {
                throw CommandError("ERR Unrecognized REPLCONF option: \(c.string(j))")
            }
        }
        c.out.writeOK()
    }

    static func sync(_ c: inout CommandContext, psync: Bool) throws(CommandError) {
        if c.client.connection.inTransaction || c.denyBlocking {
            throw CommandError("ERR Replica can't sync inside MULTI/EXEC")  // not reached: SYNC is no-multi
        }
        if psync && !c.client.replica.rdbOnly {
            throw CommandError("ERR Lode has no replication yet: PSYNC serves only a snapshot (REPLCONF rdb-only 1 first)")
        }
        guard let start = c.session.onFullSync else { throw CommandError("ERR SYNC is not available on this connection") }
        let server = c.server
        let preamble = psync ? "+FULLRESYNC \(server.replicationID) 0\r\n" : nil
        let eofMark = c.client.replica.capaEOF
        var options = RDBSaves.exportOptions(server)
        options.extraAux = [("repl-stream-db", "0"), ("repl-id", server.replicationID), ("repl-offset", "0")]
        server.logger.notice("Replica \(c.client.address) asks for synchronization")
        server.stats.fullSyncs += 1
        start(FullSyncRequest(options: options, preamble: preamble, eofMark: eofMark, spoolDirectory: server.config.dir) { done in
            server.afterCommit {
                do { done(.success(try StoreSnapshot(of: server.store))) } catch {
                    server.logger.warning("SYNC failed to take a snapshot: \(error)")
                    done(.failure(error))
                }
            }
        })
    }
}

/// What the network layer streams for SYNC/PSYNC: an optional preamble, then the RDB
/// payload written from the snapshot, framed with `$EOF:<mark>` (capa eof) or with its
/// length (spooled to a temporary file first); then the connection closes. The
/// request is handed over at once (the connection stops taking commands); the
/// snapshot follows once the turn's writes are committed.
package struct FullSyncRequest {
    package let options: RDBExport.Options
    package let preamble: String?
    package let eofMark: Bool
    package let spoolDirectory: String
    /// Calls back, on the loop, with the snapshot to send.
    package let snapshot: (@escaping (Result<StoreSnapshot, Error>) -> Void) -> Void
}

/// REPLCONF's announcements on a connection.
struct ReplicaHandshake {
    var capaEOF = false
    var rdbOnly = false
}
