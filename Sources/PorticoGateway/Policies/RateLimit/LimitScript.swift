import PorticoRedis

/// The Lua script that decides one key under one limit in Redis, atomically: the same rules as
/// `CompiledLimit.apply` (GCRA, the sliding window, the calendar quota; all or nothing), in the
/// same integer units, so that a node sees exactly what the in-memory store would decide.
///
/// Lua's numbers are doubles. Every value the script adds or compares stays below 2^53, so the
/// arithmetic is exact: GCRA times are microseconds (about 1.8e15 now), tolerances at most ten
/// years, a sliding window's limit × window at most 2^52 (the config's bound), and a quota's
/// window start is compared as text. Numbers are written with `%.0f`, never in exponent form.
///
/// KEYS[1] is the key's hash (`t`: GCRA arrival time; `ss`, `sc`, `sp`: the sliding window's
/// start and its current and previous counts; `qs`, `qu`: the quota window's start and use).
/// ARGV: cost; now (µs); GCRA interval and tolerance (µs, 0 without a rate); the sliding
/// window's limit, window and start (ms, 0 without one) and now (ms); the quota's limit (0
/// without one), its window's start (ns, text) and the ms to its end.
///
/// It returns whether it charged (1 or 0) and the fields as they were before, from which the
/// node computes the decision with `CompiledLimit.apply`; it expires the key a minute after it
/// would be idle (as the in-memory store's sweep drops idle keys): Redis counts the TTL by its own
/// clock, and the minute keeps a node whose clock is a little behind from finding a live key gone.
enum LimitScript {
    /// The hash's fields, in the order the script returns them.
    static let fields = ["t", "ss", "sc", "sp", "qs", "qu"]

    static let script = RedisScript(
        """
        local cost = tonumber(ARGV[1])
        local now = tonumber(ARGV[2])
        local interval = tonumber(ARGV[3])
        local tolerance = tonumber(ARGV[4])
        local slimit = tonumber(ARGV[5])
        local swindow = tonumber(ARGV[6])
        local sstart = tonumber(ARGV[7])
        local nowms = tonumber(ARGV[8])
        local qlimit = tonumber(ARGV[9])
        local qstart = ARGV[10]
        local qttl = tonumber(ARGV[11])
        local old = redis.call('HMGET', KEYS[1], 't', 'ss', 'sc', 'sp', 'qs', 'qu')
        local tat = tonumber(old[1]) or 0
        local ss = tonumber(old[2]) or 0
        local sc = tonumber(old[3]) or 0
        local sp = tonumber(old[4]) or 0
        local qu = tonumber(old[6]) or 0
        local allowed = 1
        local ttl = 1
        if interval > 0 then
          local base = math.max(tat, now)
          local step = cost * interval
          if step > tolerance + interval then step = tolerance + interval + 1 end
          local nxt = base + step
          if now < nxt - tolerance - interval then allowed = 0 else tat = nxt end
          ttl = math.max(ttl, math.ceil((tat - now) / 1000))
        end
        if slimit > 0 then
          if sstart ~= ss then
            if sstart - ss == swindow then sp = sc else sp = 0 end
            sc = 0
            ss = sstart
          end
          local used = sp * (swindow - (nowms - sstart)) + sc * swindow
          if sc + cost > slimit or used + cost * swindow > slimit * swindow then allowed = 0 else sc = sc + cost end
          ttl = math.max(ttl, sstart + 2 * swindow - nowms)
        end
        if qlimit > 0 then
          if old[5] ~= qstart then qu = 0 end
          if qu + cost > qlimit then allowed = 0 else qu = qu + cost end
          ttl = math.max(ttl, qttl)
        end
        if allowed == 1 then
          local f = function(n) return string.format('%.0f', n) end
          redis.call('HSET', KEYS[1], 't', f(tat), 'ss', f(ss), 'sc', f(sc), 'sp', f(sp), 'qs', qstart, 'qu', f(qu))
          redis.call('PEXPIRE', KEYS[1], f(ttl + 60000))
        end
        return {allowed, old[1], old[2], old[3], old[4], old[5], old[6]}
        """)

    /// The script's arguments for `cost` units of `limit` at `now` (ns since 1970).
    static func arguments(limit: CompiledLimit, cost: Int, now: Int64) -> [[UInt8]] {
        var values: [String] = [String(cost), String(now / 1000)]
        if let gcra = limit.gcra {
            values += [String(gcra.interval), String(gcra.tolerance)]
        } else {
            values += ["0", "0"]
        }
        let nowMilliseconds = now / 1_000_000
        if let sliding = limit.sliding {
            values += [
                String(sliding.limit), String(sliding.window),
                String(nowMilliseconds - nowMilliseconds % sliding.window),
            ]
        } else {
            values += ["0", "0", "0"]
        }
        values.append(String(nowMilliseconds))
        if let quota = limit.quota {
            let window = limit.quotaBounds(now: now, quota: quota)
            values += [
                String(quota.limit), String(window.start), String(max(1, (window.end - now + 999_999) / 1_000_000)),
            ]
        } else {
            values += ["0", "0", "0"]
        }
        return values.map { Array($0.utf8) }
    }

    /// The entry as it was before the script ran, from its reply; and whether the script charged.
    static func entry(from reply: RESPValue) throws -> (charged: Bool, entry: CompiledLimit.Entry) {
        guard let values = reply.elements, values.count == 7, let charged = values[0].int64 else {
            throw RedisError.protocolViolation("an unexpected reply to the limit script")
        }
        func number(_ index: Int) throws -> Int64 {
            if case .null = values[index] { return 0 }
            guard let value = values[index].int64 else {
                throw RedisError.protocolViolation("a limit field that is not a number")
            }
            return value
        }
        var entry = CompiledLimit.Entry()
        entry.tat = try number(1)
        entry.sliding = SlidingWindow.State(
            start: try number(2), current: Int(try number(3)), previous: Int(try number(4)))
        entry.quotaStart = try number(5)
        entry.quotaUsed = Int(try number(6))
        return (charged == 1, entry)
    }
}
