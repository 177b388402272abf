import Foundation
import LodeEngine
#if canImport(Glibc)
import Glibc
#endif

/// How lode-server lives as a process, as redis-server does: `daemonize`, `pidfile`,
/// `supervised` (systemd's READY=1, upstart's SIGSTOP), and the checks made before
/// anything is created (a port in use, a data directory that cannot be made).
public enum ProcessSupervision {
    /// Set in a daemonized child: the pipe on which it tells its parent it is ready.
    static let readyFdVariable = "LODE_DAEMON_READY_FD"

    /// `daemonize yes`: starts this program again in the background (a new session,
    /// stdin and stdout on /dev/null) and exits when it is ready (0) or has failed (its
    /// status; its errors reached our stderr). Swift cannot fork safely once threads
    /// run, so the child is a fresh process rather than a fork. Returns in the child.
    public static func daemonizeIfAsked(_ config: Configuration) {
        guard config.daemonize, ProcessInfo.processInfo.environment[readyFdVariable] == nil else { return }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { fatal("Can't daemonize: pipe: \(String(cString: strerror(errno)))") }
        fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        posix_spawnattr_setflags(&attributes, 0x80)  // POSIX_SPAWN_SETSID (glibc), not imported into Swift
        var environment = ProcessInfo.processInfo.environment
        environment[readyFdVariable] = String(fds[1])
        let argv = CommandLine.arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0)=\($1)") } + [nil]
        var child: pid_t = 0
        let status = posix_spawn(&child, "/proc/self/exe", &actions, &attributes, argv, envp)
        guard status == 0 else { fatal("Can't daemonize: \(String(cString: strerror(status)))") }
        close(fds[1])
        var byte: UInt8 = 0
        if read(fds[0], &byte, 1) == 1 { exit(0) }
        var childStatus: Int32 = 0
        waitpid(child, &childStatus, 0)
        exit((childStatus >> 8) & 0xff == 0 ? 1 : (childStatus >> 8) & 0xff)
    }

    /// The daemonized child is serving: its parent may exit, and its stderr leaves the terminal.
    static func tellParentReady() {
        guard let text = ProcessInfo.processInfo.environment[readyFdVariable], let fd = Int32(text) else { return }
        var byte: UInt8 = 1
        _ = write(fd, &byte, 1)
        close(fd)
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 {
            dup2(null, 2)
            close(null)
        }
    }

    /// The pidfile to write: `pidfile`, or Redis's habit of a default one when daemonized.
    public static func pidFilePath(_ config: Configuration) -> String? {
        if !config.pidFile.isEmpty { return config.pidFile }
        return config.daemonize ? "/var/run/lode.pid" : nil
    }

    /// Writes the pid; a failure is a warning, as in Redis ("Failed to write PID file").
    public static func writePidFile(_ path: String) -> String? {
        guard let file = fopen(path, "w") else { return "Failed to write PID file: \(String(cString: strerror(errno)))" }
        fputs("\(getpid())\n", file)
        fclose(file)
        return nil
    }

    /// `supervised`: tells systemd (NOTIFY_SOCKET) or upstart (SIGSTOP) the state.
    static func notifySupervisor(_ config: Configuration, _ state: String) {
        let environment = ProcessInfo.processInfo.environment
        switch config.supervised {
        case "systemd", "auto" where environment["NOTIFY_SOCKET"] != nil:
            guard let socketPath = environment["NOTIFY_SOCKET"] else { return }
            sendDatagram(state, to: socketPath)
        case "upstart", "auto" where environment["UPSTART_JOB"] != nil:
            if state.hasPrefix("READY=1") {
                unsetenv("UPSTART_JOB")
                raise(SIGSTOP)
            }
        default:
            break
        }
    }

    /// sd_notify: one datagram on the Unix socket (a leading '@' is the abstract namespace).
    private static func sendDatagram(_ message: String, to path: String) {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        _ = message.withCString { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, text, strlen(text), 0, $0, length)
                }
            }
        }
    }

    /// Fails when `port` cannot be bound on `host` (in use, no such address): checked
    /// before the data directory is created, so a failed start leaves nothing behind.
    static func checkPortFree(host: String, port: Int) -> String? {
        guard port != 0 else { return nil }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host == "*" ? nil : host, String(port), &hints, &result)
        guard status == 0, let info = result else { return String(cString: gai_strerror(status)) }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { return "socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        if info.pointee.ai_family == AF_INET6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &yes, 4) }
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            return "bind: \(String(cString: strerror(errno)))"
        }
        return nil
    }

    /// The first required `bind` address ("-addr" ones are optional) that cannot take
    /// `port` now, with the reason.
    static func firstUnbindable(_ addresses: [String], port: Int) -> (address: String, reason: String)? {
        for address in addresses where !address.hasPrefix("-") {
            if let reason = checkPortFree(host: address, port: port) { return (address, reason) }
        }
        return nil
    }

    /// mkdir -p with the system's reason on failure (not a Foundation error domain).
    static func makeDirectory(_ path: String) -> String? {
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            built += "/" + component
            if mkdir(built, 0o755) != 0 && errno != EEXIST { return String(cString: strerror(errno)) }
        }
        var info = stat()
        guard stat(path, &info) == 0 else { return String(cString: strerror(errno)) }
        return (info.st_mode & S_IFMT) == S_IFDIR ? nil : String(cString: strerror(ENOTDIR))
    }

    private static func fatal(_ message: String) -> Never {
        FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
        exit(1)
    }
}
