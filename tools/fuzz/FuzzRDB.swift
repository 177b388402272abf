/// libFuzzer entry point: the RDB file reader and the DUMP payload decoder over any
/// bytes must end in a value or an error, never a crash, a trap or a hang. Checksums
/// are skipped so mutations reach the value decoders.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for blockSize in [7, 1 << 20] {
        var reader = RDBFileReader(bytes: bytes, blockSize: blockSize)
        reader.verifyChecksum = false
        var items = 0
        while items < 100_000 {
            do { guard try reader.next() != nil else { break } } catch { break }
            items += 1
        }
    }
    _ = try? DumpPayload.decode(bytes, skipChecksum: true)
    _ = try? FunctionPayload.decode(bytes, skipChecksum: true)
    return 0
}
