/// Every Lua script Verk runs, in one place. Each exists to make one move between job homes atomic.
/// None re-encodes JSON with cjson (it turns `[]` into `{}` and truncates floats): payloads are rewritten
/// in Swift and the script only moves exact strings.
package enum Scripts {
    /// In-progress → retry or dead (or gone, for `retry: false`), atomically, so a crash between the two
    /// steps can neither lose nor duplicate the job. If the job is no longer in progress (another node
    /// recovered it), nothing is written: the job lives on where it is.
    /// KEYS: inprogress, target zset. ARGV: old payload, new payload, score, mode (retry|dead|discard),
    /// dead cutoff score, dead max jobs. Returns 1 when moved, 0 when the job was not in progress.
    package static let failJob = RedisScript(name: "fail_job", source: """
        if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then return 0 end
        if ARGV[4] == 'retry' then
          redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
        elseif ARGV[4] == 'dead' then
          redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
          \(DeadSetTrim.lua(key: "KEYS[2]", cutoffArg: 5))
        end
        return 1
        """)

    /// Queue → in-progress, up to ARGV[1] jobs in one atomic step: the jobs at the queue's pop end (its
    /// tail, the oldest) are trimmed off it and pushed onto the in-progress list's head, oldest first — the
    /// same order as that many `LMOVE queue inprogress RIGHT LEFT`, for three commands instead of one per
    /// job. KEYS: queue, inprogress. ARGV: the most to move (≤ 1000: `unpack` has a limit). Returns the
    /// jobs moved, oldest first.
    package static let fetchJobs = RedisScript(name: "fetch_jobs", source: """
        local jobs = redis.call('LRANGE', KEYS[1], -tonumber(ARGV[1]), -1)
        local n = #jobs
        if n == 0 then return jobs end
        redis.call('LTRIM', KEYS[1], 0, -n - 1)
        for i = 1, math.floor(n / 2) do jobs[i], jobs[n - i + 1] = jobs[n - i + 1], jobs[i] end
        redis.call('LPUSH', KEYS[2], unpack(jobs))
        return jobs
        """)

    /// Sorted set → queues: each member is claimed by its ZREM (so many pollers, ours and Sidekiq's, can
    /// race safely) and pushed in the same step, so a crash cannot lose it between the two.
    /// KEYS: the zset, the `queues` set, then one queue list per job. ARGV: triples (old member, new payload,
    /// queue name). Returns how many were moved.
    package static let pushFromSet = RedisScript(name: "push_from_set", source: """
        local moved = 0
        for i = 1, #ARGV, 3 do
          if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
            redis.call('SADD', KEYS[2], ARGV[i + 2])
            redis.call('LPUSH', KEYS[3 + (i - 1) / 3], ARGV[i + 1])
            moved = moved + 1
          end
        end
        return moved
        """)

    /// Retry set → dead set (the "kill" action), claimed by ZREM, trimmed as Sidekiq trims.
    /// KEYS: source zset, dead. ARGV: old member, new payload, now, cutoff, max. Returns 1 when moved.
    package static let killFromSet = RedisScript(name: "kill_from_set", source: """
        if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
        \(DeadSetTrim.lua(key: "KEYS[2]", cutoffArg: 4))
        return 1
        """)

    /// Specific in-progress jobs → the tail of their queue (the pop end: they run next). Used for jobs a
    /// child never started and for what is unfinished at shutdown. KEYS: inprogress, queue, queues.
    /// ARGV: queue name, then payloads. Returns how many were moved.
    package static let requeueJobs = RedisScript(name: "requeue_jobs", source: """
        local moved = 0
        for i = 2, #ARGV do
          if redis.call('LREM', KEYS[1], -1, ARGV[i]) > 0 then
            redis.call('RPUSH', KEYS[2], ARGV[i])
            moved = moved + 1
          end
        end
        if moved > 0 then redis.call('SADD', KEYS[3], ARGV[1]) end
        return moved
        """)

    /// A whole in-progress list → the tail of its queue, up to ARGV[2] jobs per call (callers loop), so a
    /// node's leftover jobs are recovered with no window where they are in neither list.
    /// KEYS: inprogress, queue, queues. ARGV: queue name, batch size. Returns how many were moved.
    package static let requeueAll = RedisScript(name: "requeue_all", source: """
        local moved = 0
        for i = 1, tonumber(ARGV[2]) do
          if not redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') then break end
          moved = moved + 1
        end
        if moved > 0 then redis.call('SADD', KEYS[3], ARGV[1]) end
        return moved
        """)

    /// A fleet-wide queue command (add, remove, or reset to the configuration) together with the deletion
    /// of that queue's entry from every node's own override hash, atomically, so the latest command wins:
    /// a node-specific entry written before it cannot outlive it, and one written after it wins. The nodes
    /// are read inside the script (from `verk:nodes` and the override-nodes index) so a node that appears
    /// mid-command is not missed; their hash names are built here from the prefix and suffix KeySpace
    /// gives, which is sound on the single Redis (not a cluster) that Verk runs against.
    /// KEYS: fleet override hash, nodes zset, override-nodes set. ARGV: queue, value (concurrency or
    /// `removed`; empty deletes the fleet entry), node hash prefix, node hash suffix.
    /// Returns how many node entries were deleted.
    package static let setFleetQueueOverride = RedisScript(name: "set_fleet_queue_override", source: """
        if ARGV[2] == '' then
          redis.call('HDEL', KEYS[1], ARGV[1])
        else
          redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        end
        local cleared = 0
        local seen = {}
        local function clear(node)
          if seen[node] then return end
          seen[node] = true
          local key = ARGV[3] .. node .. ARGV[4]
          cleared = cleared + redis.call('HDEL', key, ARGV[1])
          -- An emptied hash is gone: its node no longer needs to be in the index.
          if redis.call('EXISTS', key) == 0 then redis.call('SREM', KEYS[3], node) end
        end
        for _, node in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do clear(node) end
        for _, node in ipairs(redis.call('SMEMBERS', KEYS[3])) do clear(node) end
        return cleared
        """)
}

// MARK: The fleet

extension Scripts {
    /// Renews this node's lease if it still holds it: the check and the renewal are one step, so a node
    /// whose lease expired and was taken by another never extends the other's. A lease that merely lapsed
    /// (a heartbeat late by more than its TTL) is taken again if nobody holds it and the node is still in
    /// the registry — a takeover removes it from there, so its jobs were not touched. The lease's value is
    /// the holder's token, a space, then JSON for operators (compared as a prefix: no JSON is decoded).
    /// KEYS: the lease, the nodes zset. ARGV: the holder's token, the TTL in ms, the full value, the node id.
    /// Returns 1 when renewed, 2 when taken again, 0 when lost.
    package static let renewLease = RedisScript(name: "renew_lease", source: """
        local value = redis.call('GET', KEYS[1])
        if value then
          if string.sub(value, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' ' then return 0 end
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        if not redis.call('ZSCORE', KEYS[2], ARGV[4]) then return 0 end
        redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
        return 2
        """)

    /// Deletes this node's lease if it still holds it (a clean shutdown hands the id over at once).
    /// KEYS: the lease. ARGV: the holder's token. Returns 1 when deleted.
    package static let releaseLease = RedisScript(name: "release_lease", source: """
        local value = redis.call('GET', KEYS[1])
        if not value or string.sub(value, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' ' then return 0 end
        return redis.call('DEL', KEYS[1])
        """)

    /// A dead node's jobs (its in-progress lists and quarantine lists) → the head (pop end) of their queues,
    /// all in one step, and the node out of the registry: the script is its own lock, so exactly one taker
    /// moves each list, and a node that is alive (its lease exists) or already taken over (not in `nodes`)
    /// is left alone. The caller read the node's queue set first and passes its lists; if the set changed
    /// since, nothing is done and -2 is returned, so the caller reads again.
    /// KEYS: nodes zset, the node's lease, the node's queue set, the `queues` set, then per queue its three
    /// lists (in progress, quarantine, quarantine running) and its queue list. ARGV: node id, the beat
    /// cutoff (a beat older is expired), then the queue names in KEYS' order. Returns the number of jobs
    /// moved, -1 when the node is not to be taken over.
    package static let takeOverNode = RedisScript(name: "take_over_node", source: """
        if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
        local beat = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if not beat or tonumber(beat) >= tonumber(ARGV[2]) then return -1 end
        if redis.call('SCARD', KEYS[3]) ~= #ARGV - 2 then return -2 end
        for i = 3, #ARGV do
          if redis.call('SISMEMBER', KEYS[3], ARGV[i]) == 0 then return -2 end
        end
        local moved = 0
        for i = 3, #ARGV do
          local base = 5 + (i - 3) * 4
          local queue = KEYS[base + 3]
          local n = 0
          for l = 0, 2 do
            while redis.call('LMOVE', KEYS[base + l], queue, 'LEFT', 'RIGHT') do n = n + 1 end
          end
          if n > 0 then redis.call('SADD', KEYS[4], ARGV[i]) end
          moved = moved + n
        end
        redis.call('DEL', KEYS[3])
        redis.call('ZREM', KEYS[1], ARGV[1])
        return moved
        """)
}

// MARK: Crash culprits

extension Scripts {
    /// In-progress jobs that were running in a worker process when it crashed → this node's quarantine list
    /// for their queue, marked as suspects (the payload rewritten in Swift), each move atomic, so a suspect is
    /// always in one of the two lists. KEYS: in progress, quarantine. ARGV: pairs (old payload, new payload).
    /// Returns how many were moved.
    package static let quarantineJobs = RedisScript(name: "quarantine_jobs", source: """
        local moved = 0
        for i = 1, #ARGV, 2 do
          if redis.call('LREM', KEYS[1], -1, ARGV[i]) > 0 then
            redis.call('LPUSH', KEYS[2], ARGV[i + 1])
            moved = moved + 1
          end
        end
        return moved
        """)
}
