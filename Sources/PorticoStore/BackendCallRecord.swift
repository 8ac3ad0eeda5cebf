/// One backend call of a composite endpoint, kept with the client's call record (the
/// `call_backends` table, by request id).
package struct BackendCallRecord: Sendable, Equatable {
    /// The call's name in the endpoint; a `for-each` element's is `name[index]`.
    package var name: String
    /// The target that answered (`http://10.0.0.5:8080`); nil when none was tried or the cache answered.
    package var target: String?
    /// The backend's status; 0 when it gave none.
    package var status: Int
    /// Time from the call's start to its whole answer read.
    package var milliseconds: Double
    /// Why the call failed (`timeout`, `unavailable`, `status 404`, `not json`…); nil when it succeeded.
    package var error: String?
    /// The call's own span in the request's trace (16 hex digits).
    package var spanID: String?
    /// `hit` when the gateway's cache answered for the backend, `miss` when the answer was stored.
    package var cache: String?

    package init(
        name: String, target: String?, status: Int, milliseconds: Double, error: String?, spanID: String?,
        cache: String? = nil
    ) {
        self.name = CallRecord.bounded(name, to: CallRecord.maximumNameBytes)
        self.target = target
        self.status = status
        self.milliseconds = milliseconds
        self.error = error.map { CallRecord.bounded($0, to: CallRecord.maximumNameBytes) }
        self.spanID = spanID
        self.cache = cache
    }

    /// A request keeps at most this many backend rows (a `for-each` may make up to 1,000 calls).
    package static let maximumPerCall = 256
}
