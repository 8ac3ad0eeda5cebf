import PorticoConfig

/// Active health from periodic probes: `unhealthy` failed probes in a row mark a target down,
/// `healthy` good ones in a row bring it back. Targets start healthy.
struct ActiveHealth: Sendable {
    let settings: ActiveHealthConfig
    private(set) var isHealthy = true
    private var streak = 0

    init(settings: ActiveHealthConfig) {
        self.settings = settings
    }

    func accepts(status: Int) -> Bool {
        settings.statuses.isEmpty ? (200..<400).contains(status) : settings.statuses.contains(status)
    }

    /// Records one probe; returns the new health when it changed.
    mutating func record(passed: Bool) -> Bool? {
        if passed == isHealthy {
            streak = 0
            return nil
        }
        streak += 1
        let needed = isHealthy ? settings.unhealthy : settings.healthy
        guard streak >= needed else { return nil }
        isHealthy = passed
        streak = 0
        return isHealthy
    }
}
