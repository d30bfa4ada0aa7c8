import Glibc
import Health
import LVSModel
import NIOCore
import NIOPosix

// probes COUNT INTERVAL_MS SECONDS [tcp|half|http]: COUNT probes of 127.0.0.0/8 port 9000 (60,000
// addresses a port, then 9001...), each every INTERVAL_MS, for SECONDS; prints what the run cost.
// tcp: a full connect; half: `handshake half`; http: GET /.
let arguments = CommandLine.arguments
let kinds: [String: Probe] = ["tcp": .tcp, "half": .tcpHalfOpen, "http": .http(HTTPProbe())]
guard arguments.count == 4 || arguments.count == 5, let count = Int(arguments[1]), let interval = UInt32(arguments[2]),
      let seconds = Int64(arguments[3]), let probe = kinds[arguments.count == 5 ? arguments[4] : "tcp"] else {
    print("usage: probes COUNT INTERVAL_MS SECONDS [tcp|half|http]")
    exit(2)
}

/// User and system CPU seconds of this process.
func cpuSeconds() -> (user: Double, system: Double) {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return (Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
            Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6)
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let runner = NetworkProbeRunner()
let (scheduler, reports) = ProbeScheduler.withBatches(group: group, runner: runner)
var probes: [ProbeKey: UInt32] = [:]
for n in 0..<count {
    let address = IPAddress(v4: 0x7f00_0000 | UInt32(n % 60_000 + 1))
    probes[ProbeKey(probe: probe, address: address, port: UInt16(9000 + n / 60_000), timeoutMilliseconds: 900)] = interval
}
let cpuBefore = cpuSeconds()
let start = NIODeadline.now()
scheduler.update(probes)
var lateness: [Int64] = []
var failed = 0
run: for await batch in reports {
    for report in batch {
        lateness.append(report.latenessNanoseconds)
        if !report.result.ok { failed += 1 }
    }
    if NIODeadline.now() - start > .seconds(seconds) { break run }
}
scheduler.stop()
let cpuAfter = cpuSeconds()
let user = cpuAfter.user - cpuBefore.user, system = cpuAfter.system - cpuBefore.system, cpu = user + system
var usage = rusage()
getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
lateness.sort()
let p50 = lateness[lateness.count / 2] / 1000, p99 = lateness[lateness.count * 99 / 100] / 1000
print("\(count) \(arguments.count == 5 ? arguments[4] : "tcp") probes every \(interval) ms for \(seconds) s: \(lateness.count) results, \(failed) failed; "
      + "CPU \(Int(cpu * 1000)) ms (user \(Int(user * 1000)), system \(Int(system * 1000)); \(Int(cpu / Double(seconds) * 1000)) ‰ of a core); lateness p50 \(p50) µs, p99 \(p99) µs; "
      + "max RSS \(usage.ru_maxrss / 1024) MiB")
try await runner.shutdown()
try await group.shutdownGracefully()
