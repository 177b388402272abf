import Foundation
import LodeRDB
import LodeRESP
import LodeStore
import NIOCore

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
/// [AUTH2 username password] [KEYS key ...] (cluster.c's migrateCommand): each key's
/// DUMP payload sent as RESTORE to another server (a Lode or a Redis), which the
/// local key leaves once the target acknowledged it (unless COPY). As in Redis the
/// exchange is synchronous, bounded by `timeout` ms per read or write, over a
/// connection kept for 10 seconds for the next MIGRATE to the same target.
enum MigrateCommand {
    static func migrate(_ c: inout CommandContext) throws(CommandError) {
        var copy = false, replace = false
        var username: [UInt8]? = nil, password: [UInt8]? = nil
        var firstKey = 3, keyCount = 1
        var j = 6
        while j < c.args.count {
            let more = c.args.count - 1 - j
            if c.argIs(j, "copy") {
                copy = true
            } else if c.argIs(j, "replace") {
                replace = true
            } else if c.argIs(j, "auth") {
                guard more >= 1 else { throw .syntax }
                j += 1
                password = c.bytes(j)
            } else if c.argIs(j, "auth2") {
                guard more >= 2 else { throw .syntax }
                username = c.bytes(j + 1)
                password = c.bytes(j + 2)
                j += 2
            } else if c.argIs(j, "keys") {
                guard c.args[3].readableBytes == 0 else {
                    throw CommandError("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
                }
                firstKey = j + 1
                keyCount = c.args.count - j - 1
                break
            } else {
                throw .syntax
            }
            j += 1
        }
        var timeout = try c.integer(5)
        let dbid = try c.integer(4)
        if timeout <= 0 { timeout = 1000 }
        var keys: [(ByteBuffer, Record)] = []
        for i in firstKey..<(firstKey + keyCount) {
            if let r = try c.lookupForRead(c.arg(i)) { keys.append((c.arg(i), r)) }
        }
        if keys.isEmpty { return c.out.writeSimpleString("NOKEY") }
        let target = MigrateConnections.Target(host: c.string(1), port: c.string(2))
        let pool = c.server.migrateConnections
        var mayRetry = true
        while true {
            guard let conn = pool.connection(to: target, timeout: timeout) else {
                throw CommandError("IOERR error or timeout connecting to the client")
            }
            // The whole exchange as one pipeline: AUTH, SELECT, one RESTORE per live key.
            var request = ByteBuffer()
            if let password {
                request.writeCommand(username.map { [Array("AUTH".utf8), $0, password] } ?? [Array("AUTH".utf8), password])
            }
            let select = conn.lastDB != dbid
            if select { request.writeCommand([Array("SELECT".utf8), Array(String(dbid).utf8)]) }
            var sent: [ByteBuffer] = []
            for (key, record) in keys {
                var ttl: Int64 = 0
                if record.expireAt != 0 {
                    ttl = record.expireAt - currentTimeMillis()
                    if ttl < 0 { continue }
                    if ttl < 1 { ttl = 1 }
                }
                let value: RDBValue
                do { value = try StoredValueCodec.rdbValue(record, from: c.store) } catch { throw c.storeFailure(error) }
                var args = [Array("RESTORE".utf8), Array(key.readableBytesView), Array(String(ttl).utf8),
                            DumpPayload.encode(value, limits: c.server.config.rdbEncodingLimits)]
                if replace { args.append(Array("REPLACE".utf8)) }
                request.writeCommand(args)
                sent.append(key)
            }
            var failure = conn.write(request, timeout: timeout) ? nil : "writing"
            var targetError: String? = nil
            var acknowledged = 0
            if failure == nil {
                let authReply = password == nil ? "+" : conn.readLine(timeout: timeout)
                let selectReply = !select ? "+" : (authReply == nil ? nil : conn.readLine(timeout: timeout))
                if authReply == nil || selectReply == nil { failure = "reading" }
                for key in sent where failure == nil {
                    guard let reply = conn.readLine(timeout: timeout) else { failure = "reading"; break }
                    if let bad = [authReply!, selectReply!, reply].first(where: { $0.hasPrefix("-") }) {
                        if targetError == nil {
                            conn.lastDB = -1
                            targetError = "ERR Target instance replied with error: " + bad.dropFirst()
                        }
                    } else if !copy {
                        try c.delete(key)
                        c.notify(.generic, "del", key)
                    }
                    acknowledged += 1
                }
            }
            if let failure {
                pool.close(target)
                // Retried once, on a fresh connection, when nothing was processed (the cached one may be stale).
                if mayRetry && acknowledged == 0 && !conn.timedOut {
                    mayRetry = false
                    continue
                }
                throw CommandError("IOERR error or timeout \(failure) to target instance")
            }
            if let targetError { throw CommandError(targetError) }
            conn.lastDB = dbid
            return c.out.writeOK()
        }
    }
}

extension ByteBuffer {
    /// A command as a RESP array of bulk strings.
    mutating func writeCommand(_ args: [[UInt8]]) {
        writeString("*\(args.count)\r\n")
        for a in args {
            writeString("$\(a.count)\r\n")
            writeBytes(a)
            writeString("\r\n")
        }
    }
}
