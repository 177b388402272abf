import Foundation

/// An exclusive lock on the data directory, so that a second server cannot open
/// the same LMDB environment (LMDB itself allows several processes). The lock
/// file holds the owner's PID.
struct DataDirectoryLock {
    private let fd: Int32

    /// Creates the directory if needed and locks it, or says why it cannot.
    init(directory dir: String) throws {
        if let reason = ProcessSupervision.makeDirectory(dir) {
            throw LodeService.StartupError(description: "Can't create the data directory '\(dir)': \(reason)")
        }
        let path = dir + "/lode.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw LodeService.StartupError(description: "Can't open \(path): \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            throw LodeService.StartupError(
                description: "Can't lock the data directory '\(dir)': it is in use by another lode-server process")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        self.fd = fd
    }

    func release() {
        close(fd)
    }
}
