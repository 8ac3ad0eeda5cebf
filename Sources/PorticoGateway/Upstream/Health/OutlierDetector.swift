import PorticoConfig

/// Passive health: a target that fails `consecutiveFailures` times in a row is ejected for a
/// back-off that doubles with each ejection in a row (capped at ten times the base), and
/// readmitted when it runs out. A success resets the count and, after a clean readmission,
/// the back-off.
struct OutlierDetector: Sendable {
    let settings: PassiveHealthConfig
    private var failures = 0
    private var ejections = 0
    private(set) var ejectedUntil: ContinuousClock.Instant?

    init(settings: PassiveHealthConfig) {
        self.settings = settings
    }

    func isEjected(now: ContinuousClock.Instant) -> Bool {
        guard let ejectedUntil else { return false }
        return now < ejectedUntil
    }

    /// Counts a failure; returns true when it ejects the target.
    mutating func recordFailure(now: ContinuousClock.Instant) -> Bool {
        guard !isEjected(now: now) else { return false }
        failures += 1
        guard failures >= settings.consecutiveFailures else { return false }
        ejections += 1
        let factor = min(1 << min(ejections - 1, 4), 10)
        ejectedUntil = now + settings.ejection.duration * factor
        failures = 0
        return true
    }

    mutating func recordSuccess(now: ContinuousClock.Instant) {
        failures = 0
        if !isEjected(now: now) {
            if ejectedUntil != nil { ejectedUntil = nil } else { ejections = 0 }
        }
    }
}
