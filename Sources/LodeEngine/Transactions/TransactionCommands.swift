import LodeRESP
import LodeStore
import NIOCore

/// MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis 7.0's multi.c). Queuing itself
/// happens in dispatch (ClientSession); EXEC runs the queue to completion in
/// this event-loop turn, so its writes share one LMDB transaction and one
/// commit-log record: after a crash all of them are there or none.
enum TransactionCommands {
    static let handlers: [String: CommandHandler] = [
        "multi": multi,
        "exec": exec,
        "discard": discard,
        "watch": watch,
        "unwatch": unwatch,
    ]

    static func multi(_ c: inout CommandContext) throws(CommandError) {
        guard c.client.connection.beginTransaction() else { throw CommandError("ERR MULTI calls can not be nested") }
        c.out.writeOK()
    }

    static func discard(_ c: inout CommandContext) throws(CommandError) {
        guard c.client.connection.endTransaction() != nil else { throw CommandError("ERR DISCARD without MULTI") }
        c.server.watches.unwatchAll(c.client)
        c.client.watch.dirty = false
        c.out.writeOK()
    }

    static func exec(_ c: inout CommandContext) throws(CommandError) {
        guard let transaction = c.client.connection.endTransaction() else { throw CommandError("ERR EXEC without MULTI") }
        let server = c.server, now = c.now
        let expired = server.watches.anyExpired(c.client) { db, key in
            ((try? server.store.peekStored(db: server.store.physical(db), key: key)) ?? nil)?.isExpired(now: now) ?? false
        }
        let dirty = c.client.watch.dirty || expired
        server.watches.unwatchAll(c.client)
        c.client.watch.dirty = false
        if transaction.refused { throw CommandError("EXECABORT Transaction discarded because of previous errors.") }
        if dirty { return c.out.writeNullArray(c.resp) }
        c.out.writeArrayHeader(transaction.queued.count)
        c.session.runTransaction(transaction.queued)
    }

    static func watch(_ c: inout CommandContext) throws(CommandError) {
        if c.client.connection.inTransaction { throw CommandError("ERR WATCH inside MULTI is not allowed") }
        if !c.client.watch.dirty {
            for i in 1..<c.args.count {
                let record: Record?
                do { record = try c.store.peekStored(db: c.db, key: c.arg(i)) } catch { throw c.storeFailure(error) }
                c.server.watches.watch(c.client, db: c.client.db, key: c.arg(i), expired: record?.isExpired(now: c.now) ?? false)
            }
        }
        c.out.writeOK()
    }

    static func unwatch(_ c: inout CommandContext) throws(CommandError) {
        c.server.watches.unwatchAll(c.client)
        c.client.watch.dirty = false
        c.out.writeOK()
    }
}
