import NIOCore

extension Store {
    /// The bytes of a string record. Every reader of a whole string value outside the
    /// string commands' own fast paths goes through here, so that a value stored in
    /// chunks (values longer than one chunk: docs/storage.md, "Large strings") reads
    /// the same as one stored whole.
    public func stringValue(_ record: Record) throws -> ByteBuffer {
        record.value
    }
}
