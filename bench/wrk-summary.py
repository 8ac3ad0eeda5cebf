#!/usr/bin/env python3
"""Prints one row from a `wrk --latency` report: LABEL rps p99_ms non_2xx socket_errors."""
import re
import sys

text = open(sys.argv[1]).read()
label = sys.argv[2] if len(sys.argv) > 2 else ""
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
errors = sum(int(x) for x in sock.groups()) if sock else 0
print(f"{label:<16} {rps:>10.0f} {p99:>10.2f} {int(non2xx.group(1)) if non2xx else 0:>10} {errors:>14}")
