/// Where the process's memory goes, as Redis's getMemoryOverheadData sees its own:
/// the heap (glibc's allocator), what of it is the server's own overhead (start-up,
/// client buffers, script caches), and how the resident set compares. The LMDB file's
/// pages the process maps are file cache, shared with the kernel: they are counted in
/// the resident set but not as fragmentation.
struct MemoryOverhead {
    var heap = 0, peak = 0, startup = 0, reserved = 0
    var clients = 0, luaCaches = 0, functionCaches = 0
    var rss = 0, fileBacked = 0

    init(_ s: ServerState) {
        heap = ProcessMemory.heapBytes()
        s.peakHeap = max(s.peakHeap, heap)
        peak = s.peakHeap
        startup = s.startupHeap
        reserved = ProcessMemory.allocatorActiveBytes()
        clients = s.clients.values.reduce(0) { $0 + ConnectionCommands.totalMemory($1) }
        (luaCaches, functionCaches) = (s.scripts.evalCacheBytes, s.scripts.functionCodeBytes)
        (rss, fileBacked) = ProcessMemory.figures()
    }

    var overhead: Int { startup + clients + luaCaches + functionCaches }
    var dataset: Int { max(0, heap - overhead) }
    /// The anonymous part of the resident set: what the allocator's pages occupy.
    var anonymousResident: Int { max(0, rss - fileBacked) }
    /// Resident anonymous memory per heap byte in use (Redis's mem_fragmentation_ratio,
    /// without the LMDB file's pages).
    var fragmentation: Double { heap == 0 ? 0 : Double(anonymousResident) / Double(heap) }
}
