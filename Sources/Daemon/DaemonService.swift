#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Firewall
import LVSModel
import Logging
import NIOPosix
import ServiceLifecycle
import Shell
import UnixSignals

/// `lvsh daemon`: the Controller under swift-service-lifecycle. SIGTERM and SIGINT stop it without
/// touching the kernel; SIGHUP reloads the file; a timer looks for drift; systemd hears of each state.
public struct DaemonService: Service {
    let controller: Controller
    let notifier: SystemdNotifier
    let logger: Logger
    /// How often the kernel is read for drift made by other programs (IPVS sends no events).
    let reconcileInterval: Duration

    public init(controller: Controller, notifier: SystemdNotifier = SystemdNotifier(), logger: Logger,
                reconcileInterval: Duration = .seconds(5)) {
        self.controller = controller
        self.notifier = notifier
        self.logger = logger
        self.reconcileInterval = reconcileInterval
    }

    public func run() async throws {
        try await controller.start()
        let controller = self.controller
        // The fronts and /metrics get a loop of their own: on the probes' loop, an operator's
        // console and the scrape waited behind thousands of probes whenever that loop was behind.
        let controlPlane = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await ControlServer.start(path: try await controller.controlSocketPath(),
                                                   group: controlPlane) { request in
            await controller.handle(request)
        }
        // nftables announces every commit: another program's change to lvsh's table is repaired at
        // once. (IPVS announces nothing: its drift waits for the periodic read below.)
        let (foreignCommits, foreignCommit) = AsyncStream.makeStream(of: NFTChangeEvents.Commit.self, bufferingPolicy: .bufferingNewest(1))
        let listener = await controller.marksBackend == "nft"
            ? await NFTChangeListener.start(on: controlPlane.next(), logger: logger) { foreignCommit.yield($0) } : nil
        notifier.ready(status: "managing \(controller.file)")
        logger.notice("lvsh daemon ready", metadata: ["file": "\(controller.file)", "pid": "\(getpid())"])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) {
                        notifier.reloading()
                        logger.notice("SIGHUP: reloading \(controller.file)")
                        let ok = await controller.reload()
                        notifier.ready(status: ok ? "managing \(controller.file)" : "reload failed; running the previous configuration")
                    }
                }
                group.addTask {
                    // What finished since the last batch, in the order it finished.
                    for await batch in controller.probeReports { await controller.record(batch) }
                }
                group.addTask {
                    // A read of a large table is not free (10,000 real servers in a slow guest: most of
                    // a second of CPU): the pause after each read is at least 20 times what the read
                    // took, so drift repair never takes more than a twentieth of a CPU from the probes.
                    // The read's own time: with the wait for the actor (behind a reload, say) counted
                    // too, one pause grew past 15 s and a drift test waited in vain.
                    var pause = reconcileInterval
                    while !Task.isCancelled {
                        try? await Task.sleep(for: pause)
                        if Task.isCancelled { break }
                        let took = await controller.reconcile()
                        pause = max(reconcileInterval, took * 20)
                    }
                }
                group.addTask {
                    // A short breath first, so that a burst of commits (a script of nft commands) is
                    // one read; then no read sooner than 20 times the last one took, as below.
                    for await commit in foreignCommits {
                        logger.notice("drift: table inet lvsh changed by \(commit.description); reading the kernel now")
                        try? await Task.sleep(for: .milliseconds(100))
                        let took = await controller.reconcile()
                        try? await Task.sleep(for: max(.milliseconds(100), took * 20))
                    }
                }
                group.addTask {
                    // `metrics listen` may come and go with a reload or a front's batch: follow it.
                    var server: MetricsServer?
                    // The address last tried: a failed one is tried again only once the configuration changes it.
                    var tried: ListenAddress?
                    while !Task.isCancelled {
                        let wanted = await controller.metricsListen
                        if tried != wanted {
                            tried = wanted
                            await server?.stop()
                            server = nil
                            if let wanted {
                                do {
                                    server = try await MetricsServer.start(wanted, group: controlPlane) { sink in
                                        await controller.scrape(into: sink)
                                    }
                                    logger.notice("metrics at http://\(Self.endpoint(wanted))/metrics")
                                } catch {
                                    logger.error("metrics listen \(Self.endpoint(wanted)) failed: \(error)")
                                }
                            }
                        }
                        try? await Task.sleep(for: .seconds(1))
                    }
                    await server?.stop()
                }
                if let interval = notifier.watchdogInterval {
                    group.addTask {
                        while !Task.isCancelled {
                            notifier.watchdog()
                            try? await Task.sleep(for: interval)
                        }
                    }
                }
            }
        }
        notifier.stopping()
        foreignCommit.finish()
        try? await listener?.close()
        await server.stop()
        try? await controlPlane.shutdownGracefully()
        await controller.stop()
        await controller.shutdownProbes()
        logger.notice("lvsh daemon stopping; the kernel is left as it is")
    }

    /// The priority of every task of the daemon. Swift runs only the highest-priority jobs it has
    /// queued, so a task of lower priority waits while the others have work: a scrape started from
    /// the metrics server's event loop (.medium, where the daemon's tasks were .high, as main's are)
    /// got no answer in 120 s while 1,000 checks a second kept the probes' results coming.
    static let priority = TaskPriority.high

    static func endpoint(_ l: ListenAddress) -> String {
        l.address.endpoint(l.port)
    }

    /// Runs the daemon to its end from synchronous code (the executable's main): 0 after a signal
    /// stopped it, the error's exit code when it could not start.
    public static func runBlocking(file: String, session: sending Session) -> Int32 {
        Heap.shareOneArena()
        LoggingSystem.bootstrap { JournalLogHandler(label: $0) }
        let logger = Logger(label: "lvsh")
        let files = raiseFileLimit()
        if files < 4096 { logger.warning("only \(files) open files allowed: thousands of checks need more (LimitNOFILE=)") }
        let controller = Controller(file: file, session: session, logger: logger)
        let service = DaemonService(controller: controller, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let done = DispatchSemaphore(value: 0)
        let result = ExitBox()
        Task(priority: priority) {
            do {
                try await group.run()
            } catch let e as LVSError {
                logger.critical("lvsh daemon cannot run: \(e.message)")
                result.code = e.code.rawValue
            } catch {
                logger.critical("lvsh daemon stopped: \(error)")
                result.code = LVSError.Code.failed.rawValue
            }
            done.signal()
        }
        done.wait()
        return result.code
    }
}

/// Every probe holds a socket while it runs and the fronts, the metrics and the kernel reads hold
/// more: the soft limit of 1,024 files a process starts with ran out at 10,000 checks. Raises it to
/// the hard limit (to 1,048,576 when root may raise that too) and returns what it became.
@discardableResult
func raiseFileLimit() -> UInt64 {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
    let wanted: rlim_t = 1 << 20
    if limit.rlim_max < wanted {
        var higher = rlimit(rlim_cur: wanted, rlim_max: wanted)
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &higher) == 0 { return UInt64(wanted) }
    }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    return UInt64(limit.rlim_cur)
}

/// The exit code, set by the daemon's task before it signals the waiting main thread.
private final class ExitBox: @unchecked Sendable {
    var code: Int32 = 0
}
