import Foundation
import GRDB
import GRDBSQLite

/// Binds values to a prepared GRDB statement with SQLite's C API and runs it.
///
/// The call log writes thousands of rows per batch; GRDB's `StatementArguments` box every value
/// as an existential, which cost about a tenth of the writer's time. This writes them directly.
/// Strings are copied into an arena the binder owns and bound in place (`SQLITE_STATIC`), and
/// packed calls' text is bound where it lies, instead of SQLite allocating and copying each value:
/// a call row has a dozen strings.
struct StatementBinder: ~Copyable {
    private(set) var statement: SQLiteStatement
    let db: Database
    private var index: Int32 = 0
    private var arena = TextArena()

    init(_ statement: Statement, in db: Database) {
        self.statement = statement.sqliteStatement
        self.db = db
        sqlite3_reset(self.statement)
    }

    /// Binds the next values to another statement (the binder keeps its arena's memory).
    mutating func use(_ statement: Statement) {
        self.statement = statement.sqliteStatement
        index = 0
        sqlite3_reset(self.statement)
    }

    mutating func bind(_ value: String?) {
        index += 1
        guard let value else { sqlite3_bind_null(statement, index); return }
        let text = arena.copy(value)
        _ = sqlite3_bind_text(statement, index, text.pointer, text.count, nil)
    }

    /// Binds bytes that stay where they are until the statement has run (`SQLITE_STATIC`).
    mutating func bind(text: UnsafeRawBufferPointer?) {
        index += 1
        guard let text else { sqlite3_bind_null(statement, index); return }
        guard let start = text.baseAddress else {
            _ = sqlite3_bind_text(statement, index, "", 0, Self.transient)
            return
        }
        _ = sqlite3_bind_text(statement, index, start.assumingMemoryBound(to: CChar.self), Int32(text.count), nil)
    }

    mutating func bind(_ value: Int) {
        index += 1
        sqlite3_bind_int64(statement, index, Int64(value))
    }

    mutating func bind(_ value: Int64) {
        index += 1
        sqlite3_bind_int64(statement, index, value)
    }

    mutating func bind(_ value: Double?) {
        index += 1
        if let value { sqlite3_bind_double(statement, index, value) } else { sqlite3_bind_null(statement, index) }
    }

    mutating func bind(_ value: Data) {
        index += 1
        value.withUnsafeBytes { bytes in
            _ = sqlite3_bind_blob(statement, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), Self.transient)
        }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Runs the statement to completion and readies it for the next row.
    mutating func run() throws {
        let code = sqlite3_step(statement)
        index = 0
        sqlite3_reset(statement)
        // SQLite has copied what it keeps; the bound pointers may not outlive the arena's reuse.
        sqlite3_clear_bindings(statement)
        arena.reset()
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }
}

/// UTF-8 copies of bound strings, in blocks that stay put until `reset`, so SQLite may read them
/// in place while the statement runs.
struct TextArena: ~Copyable {
    private static let blockSize = 64 << 10
    private var blocks: [UnsafeMutableRawBufferPointer] = []
    /// The next free byte in the last block.
    private var used = 0

    /// Copies `text` (NUL-free length, no terminator needed) and returns where it is.
    mutating func copy(_ text: String) -> (pointer: UnsafePointer<CChar>, count: Int32) {
        let count = text.utf8.count
        if blocks.isEmpty || used + count > blocks[blocks.count - 1].count {
            blocks.append(.allocate(byteCount: max(Self.blockSize, count), alignment: 1))
            used = 0
        }
        let start = blocks[blocks.count - 1].baseAddress! + used
        let target = UnsafeMutableRawBufferPointer(start: start, count: count)
        // A native string copies its contiguous UTF-8 in one move; any other goes byte by byte.
        if text.utf8.withContiguousStorageIfAvailable({ target.copyMemory(from: UnsafeRawBufferPointer($0)) }) == nil {
            _ = target.initializeMemory(as: UInt8.self, from: text.utf8)
        }
        used += count
        return (UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self), Int32(count))
    }

    /// Forgets every copy, keeping the first block for the next statement.
    mutating func reset() {
        for block in blocks.dropFirst() { block.deallocate() }
        blocks.removeSubrange(min(1, blocks.count)...)
        used = 0
    }

    deinit {
        for block in blocks { block.deallocate() }
    }
}
