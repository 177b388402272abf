import LodeRESP
import LodeStore
import NIOCore

/// MONITOR (Redis's replicationFeedMonitors): every command run, as a status
/// line `+<seconds>.<micros> [<db> <client address>|lua] "arg" ...`, to every
/// monitoring client. Admin commands and those flagged skip-monitor are not
/// shown; EVAL and FCALL show themselves before the commands they run.
enum MonitorCommands {
    static let handlers: [String: CommandHandler] = [
        "monitor": { (c: inout CommandContext) throws(CommandError) in
            if c.denyBlocking { throw CommandError("ERR MONITOR isn't allowed for DENY BLOCKING client") }
            guard !c.client.isMonitor else { return }
            c.client.isMonitor = true
            c.server.monitors.append(c.client.id)
            c.out.writeOK()
        },
    ]
}

extension ServerState {
    /// Sends `args` (run by `client` in logical database `db`) to the monitors.
    func feedMonitors(_ client: ClientState, db: Int, _ args: [ByteBuffer]) {
        var line = ByteBuffer()
        let micros = currentTimeMicros()
        let fraction = String(micros % 1_000_000)
        line.writeString("+\(micros / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction) ")
        line.writeString(client.id == 0 ? "[\(db) lua] " : "[\(db) \(client.address)] ")
        for (i, a) in args.enumerated() {
            if i > 0 { line.writeString(" ") }
            Self.writeRepr(a.readableBytesView, to: &line)
        }
        line.writeString("\r\n")
        for id in monitors { sessions[id]?.push(line) }
    }

    /// Redis's sdscatrepr: a quoted string with C escapes, other bytes as \xHH.
    static func writeRepr(_ bytes: ByteBufferView, to out: inout ByteBuffer) {
        let hex = Array("0123456789abcdef".utf8)
        out.writeInteger(UInt8(ascii: "\""))
        for b in bytes {
            switch b {
            case UInt8(ascii: "\\"), UInt8(ascii: "\""): out.writeBytes([UInt8(ascii: "\\"), b])
            case 10: out.writeString("\\n")
            case 13: out.writeString("\\r")
            case 9: out.writeString("\\t")
            case 7: out.writeString("\\a")
            case 8: out.writeString("\\b")
            case 32...126: out.writeInteger(b)
            default: out.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(b >> 4)], hex[Int(b & 15)]])
            }
        }
        out.writeInteger(UInt8(ascii: "\""))
    }
}
