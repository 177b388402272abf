import LodeRESP
import LodeStore
import NIOCore

/// String values through the store, whether stored whole or in chunks (a value
/// longer than `string-chunk-size`: Store+Strings.swift). Commands that read a
/// part of a value (GETRANGE, GETBIT, BITCOUNT) or write one (SETRANGE, APPEND,
/// SETBIT, BITFIELD) touch only the chunks concerned; the rest read it whole.
extension CommandContext {
    /// The whole value of a string record.
    func stringValue(_ r: Record) throws(CommandError) -> ByteBuffer {
        guard r.isChunked else { return r.value }
        do { return try store.stringValue(r) } catch { throw storeFailure(error) }
    }

    /// Visits the bytes `range` of a string (clamped to its length) in pieces valid
    /// only inside `visit`; `visit` returns false to stop.
    func readString(_ r: Record, _ range: Range<Int>, _ visit: (UnsafeRawBufferPointer) -> Bool) throws(CommandError) {
        do { try store.readString(r, range, visit) } catch { throw storeFailure(error) }
    }

    /// The bytes `range` of a string, zero-padded past its end.
    func stringBytes(_ r: Record?, _ range: Range<Int>) throws(CommandError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(range.count)
        if let r { try readString(r, range) { bytes.append(contentsOf: $0); return true } }
        if bytes.count < range.count { bytes += repeatElement(0, count: range.count - bytes.count) }
        return bytes
    }

    /// Writes into the bytes `range` of a string (nil: a new one), grown with zero
    /// bytes to reach it; returns the record to `put`.
    func updateString(_ r: Record?, _ range: Range<Int>,
                      _ body: (UnsafeMutableRawBufferPointer, Int) -> Void) throws(CommandError) -> Record {
        do { return try store.updateString(r, range: range, body) } catch { throw storeFailure(error) }
    }

    /// Copies `bytes` into the bytes of a string from `offset` on; returns the record to `put`.
    func writeString(_ r: Record?, at offset: Int, _ bytes: ByteBuffer) throws(CommandError) -> Record {
        try bytes.withUnsafeReadableBytes { (source: UnsafeRawBufferPointer) throws(CommandError) -> Record in
            try updateString(r, offset..<(offset + source.count)) { piece, at in
                piece.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[at..<(at + piece.count)]))
            }
        }
    }

    /// The bytes `range` of a string (the whole value by default) as a bulk reply,
    /// copied from the store straight into the reply buffer.
    func writeStringBulk(_ r: Record, _ range: Range<Int>? = nil) throws(CommandError) {
        let whole = 0..<r.stringLength
        let range = (range ?? whole).clamped(to: whole)
        guard r.isChunked else {
            guard let slice = r.value.getSlice(at: r.value.readerIndex + range.lowerBound, length: range.count) else {
                throw .inconsistent
            }
            return out.writeBulk(slice)
        }
        out.writeInteger(UInt8(ascii: "$"))
        out.writeDecimal(range.count)
        out.writeCRLF()
        out.reserveCapacity(minimumWritableBytes: range.count + 2)
        try readString(r, range) { out.writeBytes($0); return true }
        out.writeCRLF()
    }
}
