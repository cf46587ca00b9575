/// The one push path, shared by `VerkClient`, `verk enqueue` and a running job's `JobContext.enqueue`:
/// `prepare` normalises each job as Sidekiq's client does and runs the client middleware chain; `commands`
/// turns the prepared jobs into the Redis commands Sidekiq's client sends (client.rb): immediate jobs are
/// `SADD queues` + `LPUSH queue:NAME` (one LPUSH per queue for a batch), scheduled jobs `ZADD schedule`.
/// Pure: the caller decides which connection sends them, so the supervisor can batch them into its pipelines
/// (a running job's enqueue is prepared in its worker process, where the app's middleware is, and sent by
/// the supervisor).
package struct JobPush: Sendable {
    package let keys: KeySpace
    /// The form of `enqueued_at` on a job that has no timestamp of its own (`timestamp_format`).
    package let timestamps: TimestampFormat

    package init(keys: KeySpace, timestamps: TimestampFormat = .seconds) {
        self.keys = keys
        self.timestamps = timestamps
    }

    /// Fills what Sidekiq's client fills: `jid` and `created_at` if absent (in `timestamps` unless the job
    /// has a form of its own), `queue` and `retry` defaults (a Verk job's `max_retry_count` is its retry).
    /// Only an absent `queue` becomes `default`: an empty one is refused by `prepare`, as Sidekiq refuses it.
    package static func normalize(_ job: inout Job, now: Double, timestamps: TimestampFormat = .seconds) {
        if job.jid?.isEmpty ?? true { job.jid = JobID.generate() }
        if job.createdAt == nil { job.setTimestamp(.createdAt, now, defaultFormat: timestamps) }
        if job["queue"] == nil { job.queue = "default" }
        if job["retry"] == nil && job["max_retry_count"] == nil { job["retry"] = .bool(true) }
    }

    /// Sidekiq's `perform_in`: a value under 1e9 is an interval from now, and a time not in the future
    /// means "run now".
    package static func scheduleTime(_ at: Double?, now: Double) -> Double? {
        guard let at else { return nil }
        let time = at < 1_000_000_000 ? now + at : at
        return time > now ? time : nil
    }

    /// Normalises the jobs, resolves `at` (Sidekiq's `perform_in`/`perform_at`) and runs the middleware chain
    /// on each; jobs a middleware skips are left out. A middleware that throws refuses the whole call, and so
    /// does a job whose `queue` names no queue once the middleware ran (`JobDecodingError.invalidQueue`). With a
    /// tracer bootstrapped, each job's push is a span whose context the job carries (`JobTracing`).
    package static func prepare(
        _ jobs: [Job], at: Double?, middleware: ClientMiddlewareChain, now: Double = Timestamp.now(),
        timestamps: TimestampFormat = .seconds
    ) throws -> [(job: Job, at: Double?)] {
        let time = scheduleTime(at, now: now)
        let tracer = JobTracing.activeTracer  // looked up once per call, not per job
        var ready: [(job: Job, at: Double?)] = []
        ready.reserveCapacity(jobs.count)
        for var job in jobs {
            normalize(&job, now: now, timestamps: timestamps)
            guard try middleware.apply(&job, at: time) else { continue }
            _ = try job.pushQueue()
            if let tracer { JobTracing.push(&job, at: time, tracer: tracer) }
            ready.append((job, time))
        }
        return ready
    }

    /// The commands to push prepared jobs (their queue checked: `Job.pushQueue`). `at` nil means now.
    package func commands(for jobs: [(job: Job, at: Double?)], now: Double) -> [RedisCommand] {
        var commands: [RedisCommand] = []
        var immediate: [(queue: String, payloads: [[UInt8]])] = []
        var scheduled: [any RedisArgument] = []
        for (original, at) in jobs {
            var job = original
            job["at"] = nil
            if let at {
                job["enqueued_at"] = nil
                scheduled.append(at)
                scheduled.append(job.encoded())
            } else {
                job.setTimestamp(.enqueuedAt, now, defaultFormat: timestamps)
                let queue = (try? job.pushQueue()) ?? "default"
                if let i = immediate.firstIndex(where: { $0.queue == queue }) {
                    immediate[i].payloads.append(job.encoded())
                } else {
                    immediate.append((queue, [job.encoded()]))
                }
            }
        }
        if !immediate.isEmpty {
            commands.append(RedisCommand("SADD", [keys.queues] + immediate.map(\.queue)))
            for (queue, payloads) in immediate {
                commands.append(RedisCommand("LPUSH", [keys.queue(queue)] + payloads))
            }
        }
        if !scheduled.isEmpty { commands.append(RedisCommand("ZADD", [keys.schedule] + scheduled)) }
        return commands
    }
}
