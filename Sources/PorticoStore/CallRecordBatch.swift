import Foundation

/// Call records packed into one byte buffer, field after field in the `calls` table's column
/// order, for the trip from the request path to the writer.
///
/// A `CallRecord` holds a dozen strings, several of them allocated per request. Queued as
/// records, they lived for up to 100 ms and were freed on the writer's thread, and the request
/// path lost its warm allocations and caches: queueing alone, without writing, cost 5 % of a
/// mock-answered request's CPU. Packed, a call is one sequential copy made on the request path,
/// its strings are freed where they were made, and the writer binds the text to SQLite in place.
///
/// Layout per call: `Double` and `Int` as 8 little-endian bytes; an optional `Double` as a
/// presence byte and 8 bytes; text as a 4-byte length (-1 when absent) and its UTF-8 bytes.
package struct CallRecordBatch: Sendable {
    private(set) var bytes: [UInt8] = []
    /// Set by the call log writer when it first tries the batch; the same on every retry.
    package var id: UUID?
    /// Where each call starts in `bytes`.
    private var starts: [Int] = []

    package init() {}

    package init(_ calls: [CallRecord]) {
        for call in calls { append(call) }
    }

    package var count: Int { starts.count }

    /// The packed bytes held.
    var byteCount: Int { bytes.count }
    package var isEmpty: Bool { starts.isEmpty }

    package mutating func append(_ call: CallRecord) {
        starts.append(bytes.count)
        put(call.time.timeIntervalSince1970)
        put(call.requestID)
        put(call.method)
        put(call.path)
        put(call.api)
        put(call.version)
        put(call.consumer)
        put(call.route)
        put(call.status)
        put(call.bytesIn)
        put(call.bytesOut)
        put(call.totalMilliseconds)
        putOptional(call.upstreamMilliseconds)
        put(call.target)
        put(call.clientAddress)
        put(call.error)
        put(call.retries)
        put(call.keyPrefix)
        put(call.rateLimit)
        put(call.cache)
        put(call.traceID)
        put(call.mirror)
        put(call.protocolVersion)
        put(call.validation)
        put(call.backends.count)
        for backend in call.backends {
            put(backend.name)
            put(backend.target)
            put(backend.status)
            put(backend.milliseconds)
            put(backend.error)
            put(backend.spanID)
            put(backend.cache)
        }
    }

    /// Empties the batch, keeping its memory for the next calls.
    mutating func removeAll() {
        // The memory is reused for other calls: they are another batch.
        id = nil
        bytes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
    }

    /// Moves the first `count` calls out into a batch of their own.
    mutating func removeFirst(_ count: Int) -> CallRecordBatch {
        guard count < starts.count else {
            defer { self = CallRecordBatch() }
            return self
        }
        let end = starts[count]
        var taken = CallRecordBatch()
        taken.bytes = Array(bytes[..<end])
        taken.starts = Array(starts[..<count])
        bytes.removeFirst(end)
        starts.removeFirst(count)
        for index in starts.indices { starts[index] -= end }
        return taken
    }

    /// Calls `body` with a reader at the start of each call in turn; `body` reads every field.
    func forEachCall(_ body: (inout CallReader) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { buffer in
            var reader = CallReader(buffer: buffer)
            for _ in 0..<starts.count { try body(&reader) }
        }
    }

    /// Calls `body` with a reader at the first call; `body` reads calls one after the other.
    func withReader<T>(_ body: (inout CallReader) throws -> T) rethrows -> T {
        try bytes.withUnsafeBytes { buffer in
            var reader = CallReader(buffer: buffer)
            return try body(&reader)
        }
    }

    /// The bytes the batch can hold without growing.
    var capacity: Int { bytes.capacity }

    private mutating func put(_ value: Double) {
        put(Int(bitPattern: UInt(value.bitPattern)))
    }

    private mutating func putOptional(_ value: Double?) {
        bytes.append(value == nil ? 0 : 1)
        put(value ?? 0)
    }

    private mutating func put(_ value: Int) {
        withUnsafeBytes(of: Int64(value).littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func put(_ value: String?) {
        guard var text = value else {
            withUnsafeBytes(of: Int32(-1).littleEndian) { bytes.append(contentsOf: $0) }
            return
        }
        text.withUTF8 { utf8 in
            withUnsafeBytes(of: Int32(utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: utf8)
        }
    }
}

/// Reads the fields of packed calls in order. The text it returns points into the batch and is
/// valid only inside the closure that handed out the reader.
struct CallReader {
    let buffer: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    mutating func int() -> Int {
        defer { offset += 8 }
        return Int(Int64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
    }

    mutating func double() -> Double {
        Double(bitPattern: UInt64(UInt(bitPattern: int())))
    }

    mutating func optionalDouble() -> Double? {
        let present = buffer[offset] != 0
        offset += 1
        let value = double()
        return present ? value : nil
    }

    /// Skips a call's backend rows (the last fields of a call), for readers that do not need them.
    mutating func skipBackends() {
        for _ in 0..<int() { skipBackend() }
    }

    /// Skips one backend row: name, target, status, milliseconds, error, span id, cache.
    mutating func skipBackend() {
        for _ in 0..<2 { _ = text() }
        _ = int()
        _ = double()
        for _ in 0..<3 { _ = text() }
    }

    mutating func text() -> UnsafeRawBufferPointer? {
        let count = Int(Int32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
        offset += 4
        guard count >= 0 else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count])
    }
}
