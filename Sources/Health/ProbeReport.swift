import Glibc

/// One finished run of a probe, as the scheduler hands it to the daemon.
public struct ProbeReport: Hashable, Sendable {
    public var key: ProbeKey
    /// The verdict with its duration and wall-clock time: what `HealthMonitor.record` takes.
    public var result: ProbeResult
    /// How long the run took, in nanoseconds of the event loop's clock.
    public var durationNanoseconds: Int64
    /// How late the run started after its due time, in nanoseconds (the benchmark's p99 lateness).
    public var latenessNanoseconds: Int64

    public init(key: ProbeKey, result: ProbeResult, durationNanoseconds: Int64, latenessNanoseconds: Int64) {
        self.key = key
        self.result = result
        self.durationNanoseconds = durationNanoseconds
        self.latenessNanoseconds = latenessNanoseconds
    }
}

extension HealthTime {
    /// The system's wall clock: for the scheduler and the daemon, never for the state machine.
    public static func now() -> HealthTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return HealthTime(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }
}
