/// Where finished calls go: the access log and the call store.
package protocol CallRecordSink: Sendable {
    /// Takes a record without blocking the response; a full sink drops and counts instead.
    func record(_ call: CallRecord)
}
