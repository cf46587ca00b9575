# Sidekiq 6.4's side of scripts/bench: the workers of examples/Demo that the bench runs, in Ruby, and the
# client-side timings (Sidekiq::Client.push and push_bulk). Loaded by `sidekiq -r` (the server) and by
# `ruby -r` (the client timings, `ruby -r ./scripts/bench_sidekiq.rb -e 'BenchClient.push(N)'`).
#
# Environment: VERK_REDIS_URL (the bench's throwaway Redis); BENCH_SIDEKIQ_LOG=warn sets the server's
# logger to WARN, which turns off the two INFO lines Sidekiq writes per job ("start", "done") as
# VERK_JOB_LOG_LEVEL=off does Verk's one; unset, Sidekiq logs at its default level, INFO.
# BENCH_SIDEKIQ_LATENCY=1: the latency run (LatencyStamp, below).
require "sidekiq"
require "json"
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

Sidekiq.configure_client { |config| config.redis = { url: ENV.fetch("VERK_REDIS_URL") } }
Sidekiq.configure_server do |config|
  config.redis = { url: ENV.fetch("VERK_REDIS_URL") }
  Sidekiq.logger.level = Logger::WARN if ENV["BENCH_SIDEKIQ_LOG"] == "warn"
end

class NoopWorker
  include Sidekiq::Worker
  def perform(*) end
end

# [ms]: sleeps that long (blocking, but it releases the GVL, as any I/O wait does).
class SleepWorker
  include Sidekiq::Worker
  def perform(ms = 100)
    sleep(ms / 1000.0)
  end
end

# [ms]: busy for that many milliseconds of its thread's own CPU time, as the demo's SpinWorker is: a
# CPU-bound job, which holds the GVL while it runs.
class SpinWorker
  include Sidekiq::Worker
  def perform(ms = 1)
    finish = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID) + ms / 1000.0
    nil while Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID) < finish
  end
end

# [path]: appends now − enqueued_at in microseconds to path, as the demo's LatencyWorker does, at the start
# of perform. Sidekiq does not hand perform the job hash: LatencyStamp, a server middleware, passes
# enqueued_at on. It is installed only for the latency run (BENCH_SIDEKIQ_LATENCY=1), so the other runs'
# job path is Sidekiq's own.
class LatencyWorker
  include Sidekiq::Worker
  attr_accessor :bench_enqueued_at
  def perform(path)
    micros = ((Time.now.to_f - bench_enqueued_at.to_f) * 1_000_000).to_i
    File.open(path, "a") { |f| f.write("#{micros}\n") }
  end
end

class LatencyStamp
  def call(worker, job, _queue)
    worker.bench_enqueued_at = job["enqueued_at"] if worker.is_a?(LatencyWorker)
    yield
  end
end
if ENV["BENCH_SIDEKIQ_LATENCY"] == "1"
  Sidekiq.configure_server { |config| config.server_middleware { |chain| chain.add LatencyStamp } }
end

# The end of a drain. Sidekiq adds to stat:processed only at its heartbeat (every 5 s), so the bench marks
# each drain's jobs (as it marks Verk's): `bench_drain` names the drain and `bench_drain_jobs` is its size.
# This middleware counts them in memory as they finish and, after the last one, sets bench:drained:NAME,
# which `verk bench-wait --key` watches. Per job it costs a hash update under a mutex; one SET per drain.
class DrainCounter
  COUNTS = Hash.new(0)
  LOCK = Mutex.new

  def call(_worker, job, _queue)
    yield
  ensure
    if (drain = job["bench_drain"])
      last = LOCK.synchronize { (COUNTS[drain] += 1) == job["bench_drain_jobs"] }
      Sidekiq.redis { |conn| conn.set("bench:drained:#{drain}", Time.now.to_f) } if last
    end
  end
end
Sidekiq.configure_server { |config| config.server_middleware { |chain| chain.add DrainCounter } }

# Enqueue timings, printed as one JSON object: jobs, seconds, rate. Ruby's start-up is not counted.
module BenchClient
  def self.timed(jobs)
    start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    yield
    seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - start
    puts JSON.generate("jobs" => jobs, "seconds" => seconds, "rate" => jobs / seconds)
  end

  def self.push(jobs, queue = "bench")
    timed(jobs) { jobs.times { Sidekiq::Client.push("class" => "NoopWorker", "args" => [], "queue" => queue) } }
  end

  def self.push_bulk(jobs, batch = 1000, queue = "bench")
    timed(jobs) do
      (jobs / batch).times do
        Sidekiq::Client.push_bulk("class" => "NoopWorker", "args" => Array.new(batch) { [] }, "queue" => queue)
      end
    end
  end
end
