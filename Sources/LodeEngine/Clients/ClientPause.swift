import LodeCommandSpec
import LodeRESP
import LodeStore
import NIOCore

/// CLIENT PAUSE, as Redis 7.0's pauseClients: until `end`, the commands of every
/// client (ALL), or those that write or may replicate (WRITE), wait, postponed in
/// arrival order, and keys neither expire actively nor are deleted on reads (they
/// only read as missing). A pause never shortens an earlier one.
struct ClientPause {
    enum Kind: Int, Comparable {
        case off, write, all
        static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    var kind = Kind.off
    var end: Int64 = 0
    /// Clients whose command waits for the pause to end, oldest first.
    var postponed: [Int] = []

    func isActive(now: Int64) -> Bool { kind != .off && now < end }
}

extension ServerState {
    /// CLIENT PAUSE: the strongest kind and the latest end win, as Redis's pauseClients.
    func pauseClients(_ kind: ClientPause.Kind, until end: Int64, loop: EventLoop) {
        pause.kind = max(pause.kind, kind)
        pause.end = max(pause.end, end)
        store.expiryPaused = true
        let delay = TimeAmount.milliseconds(max(0, pause.end - currentTimeMillis()))
        loop.scheduleTask(in: delay) { [weak self] in self?.endPauseIfDue() }
    }

    /// The pause's end time passed (a later PAUSE may have moved it).
    func endPauseIfDue() {
        guard pause.kind != .off, currentTimeMillis() >= pause.end else { return }
        unpauseClients()
    }

    /// CLIENT UNPAUSE, or the end of the pause: the postponed commands run in order.
    func unpauseClients() {
        pause.kind = .off
        store.expiryPaused = false
        let waiting = pause.postponed
        pause.postponed.removeAll()
        for id in waiting { sessions[id]?.runPostponed() }
    }

    /// Whether `command` must wait: anything under ALL; under WRITE, what writes or
    /// may replicate (a script unless its flags say no-writes, an EXEC queuing writes).
    func mustPostpone(_ command: Command, _ args: [ByteBuffer], _ client: ClientState, now: Int64) -> Bool {
        guard pause.isActive(now: now) else {
            if pause.kind != .off { endPauseIfDue() }
            return false
        }
        if pause.kind == .all { return true }
        return mayReplicate(command, args, client)
    }

    private func mayReplicate(_ command: Command, _ args: [ByteBuffer], _ client: ClientState) -> Bool {
        switch command.fullName {
        case "exec":
            guard case .open(.transaction(let t)) = client.connection.phase else { return false }
            return t.queued.contains { queued in
                guard let q = commandTable.lookup(call: queued) else { return false }
                return mayReplicate(q, queued, client)
            }
        case "eval", "evalsha", "fcall":
            return !scripts.declaresNoWrites(command.fullName, args)
        default:
            return !command.flags.isDisjoint(with: [.write, .mayReplicate])
        }
    }
}

extension ClientSession {
    /// Keeps the command for when the pause ends; the client's further input waits.
    func postpone(_ args: [ByteBuffer]) {
        postponedArgs = args.map { ByteBuffer(bytes: $0.readableBytesView) }
        server.pause.postponed.append(client.id)
        input.paused = true
    }

    /// The pause ended: the command runs, then the input that waited behind it.
    func runPostponed() {
        guard let args = postponedArgs else { return }
        postponedArgs = nil
        execute(args, retry: false)
        resume()
    }
}
