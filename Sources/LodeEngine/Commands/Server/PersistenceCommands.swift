import LodeRESP
import NIOCore

/// SAVE, BGSAVE and LASTSAVE (rdb.c's saveCommand, bgsaveCommand, lastsaveCommand),
/// writing `dir`/`dbfilename` in Redis's RDB format (RDBSaves).
enum PersistenceCommands {
    static let handlers: [String: CommandHandler] = [
        "save": save,
        "bgsave": bgsave,
        "lastsave": { (c: inout CommandContext) throws(CommandError) in c.out.writeIntegerReply(Int(c.server.rdbSaves.lastSave)) },
    ]

    static let inProgress = CommandError("ERR Background save already in progress")

    static func save(_ c: inout CommandContext) throws(CommandError) {
        if c.server.rdbSaves.inProgress { throw inProgress }
        guard c.server.rdbSaves.saveNow(c.server) else { throw CommandError("ERR") }
        c.out.writeOK()
    }

    /// BGSAVE [SCHEDULE]. SCHEDULE matters in Redis only while another child process
    /// (an AOF rewrite) runs; Lode has none, so the save starts either way.
    static func bgsave(_ c: inout CommandContext) throws(CommandError) {
        if c.args.count > 1 {
            guard c.args.count == 2, c.argIs(1, "schedule") else { throw .syntax }
        }
        let saves = c.server.rdbSaves
        if saves.inProgress { throw inProgress }
        if c.denyBlocking {
            // Inside MULTI, as Redis does (server.in_exec): the save starts from the cron.
            saves.schedule()
            return c.out.writeSimpleString("Background saving scheduled")
        }
        saves.startBackground(c.server, loop: c.session.loop)
        c.out.writeSimpleString("Background saving started")
    }
}
