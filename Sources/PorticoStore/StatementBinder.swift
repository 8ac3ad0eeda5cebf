import Foundation
import GRDB
import GRDBSQLite

/// Binds values to a prepared GRDB statement with SQLite's C API and runs it.
///
/// The call log writes thousands of rows per batch; GRDB's `StatementArguments` box every value
/// as an existential, which cost about a tenth of the writer's time. This writes them directly.
/// Packed calls' text is bound where it lies (`SQLITE_STATIC`) instead of SQLite allocating and
/// copying each value: a call row has a dozen strings.
struct StatementBinder {
    private(set) var statement: SQLiteStatement
    let db: Database
    private var index: Int32 = 0
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ statement: Statement, in db: Database) {
        self.statement = statement.sqliteStatement
        self.db = db
        sqlite3_reset(self.statement)
    }

    /// Binds the next values to another statement.
    mutating func use(_ statement: Statement) {
        self.statement = statement.sqliteStatement
        index = 0
        sqlite3_reset(self.statement)
    }

    mutating func bind(_ value: String?) {
        index += 1
        guard let value else { sqlite3_bind_null(statement, index); return }
        var text = value
        text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                // An empty string has no buffer; SQLite needs a pointer all the same.
                if let base = chars.baseAddress {
                    _ = sqlite3_bind_text(statement, index, base, Int32(chars.count), Self.transient)
                } else {
                    _ = sqlite3_bind_text(statement, index, "", 0, Self.transient)
                }
            }
        }
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
            _ = sqlite3_bind_blob(
                statement, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count),
                Self.transient)
        }
    }

    /// Runs the statement to completion and readies it for the next row.
    mutating func run() throws {
        let code = sqlite3_step(statement)
        index = 0
        sqlite3_reset(statement)
        // Text bound in place points into a batch that is gone after the write.
        sqlite3_clear_bindings(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }
}
