-- bench/latency.lua: wrk's --latency table stops at p99; the reload storm
-- also wants p99.9 (both in microseconds).
done = function(summary, latency, requests)
    io.write(string.format("LATENCY p99=%d p999=%d\n", latency:percentile(99), latency:percentile(99.9)))
end
