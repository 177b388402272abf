import CMallocStats
#if canImport(Glibc)
import Glibc
#endif

/// The process's memory as the kernel counts it (INFO memory; the server's
/// mapping cap reads the file-backed part).
package enum ProcessMemory {
    package static func residentBytes() -> Int { figures().resident }

    /// Resident and file-backed resident bytes, from /proc/self/statm.
    package static func figures() -> (resident: Int, fileBacked: Int) {
        guard let f = fopen("/proc/self/statm", "r") else { return (0, 0) }
        defer { fclose(f) }
        var size = 0, resident = 0, shared = 0
        withUnsafeMutablePointer(to: &size) { s in
            withUnsafeMutablePointer(to: &resident) { r in
                withUnsafeMutablePointer(to: &shared) { sh in
                    _ = withVaList([s, r, sh]) { vfscanf(f, "%ld %ld %ld", $0) }
                }
            }
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        return (resident * page, shared * page)
    }
}

extension ProcessMemory {
    /// Bytes the allocator has handed out and not taken back (glibc's mallinfo2: the
    /// arenas' allocated chunks plus mmapped ones): Redis's used_memory, the heap.
    package static func heapBytes() -> Int { Int(lode_heap_allocated()) }

    /// Bytes the allocator holds from the system, in use or free (arenas plus mmapped chunks).
    package static func allocatorActiveBytes() -> Int { Int(lode_heap_reserved()) }

    /// MEMORY PURGE: gives the allocator's free pages back to the system.
    package static func purge() { lode_heap_trim() }
}
