#!/usr/bin/env python3
"""The latency client of bench/aggregate.sh: one client, one request after another, keep-alive.
  bench/aggregate-client.py GATEWAY USERS TEAMS FEED ITERATIONS WARMUP    # each a host:port
Three variants, one iteration each in turn (the order rotates every iteration, so each sees the
same noise):
  composite   GET /bff/home/u1 on the gateway (it makes the three backend calls itself)
  sequential  GET /users/u1, /teams/t-7, /feed?user=u1 on the gateway's plain proxies, one after another
  direct      the same three GETs straight to the backends, one after another
One persistent http.client connection per host:port (TCP_NODELAY). Every answer must be 200 and is
read whole; the composite's must hold user, team and feed. Prints `VARIANT p50_ms p99_ms n` lines.
"""
import http.client
import json
import math
import socket
import sys
import time

gateway, users, teams, feed = sys.argv[1:5]
iterations, warmup = int(sys.argv[5]), int(sys.argv[6])
connections: dict[str, http.client.HTTPConnection] = {}


def connection(hostport: str) -> http.client.HTTPConnection:
    if hostport not in connections:
        host, port = hostport.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connections[hostport] = conn
    return connections[hostport]


def get(hostport: str, path: str) -> bytes:
    conn = connection(hostport)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        sys.exit(f"GET {hostport}{path}: {response.status} {body[:200]!r}")
    if response.will_close:
        sys.exit(f"GET {hostport}{path}: the server closed the connection (keep-alive expected)")
    return body


variants = {
    "composite": [(gateway, "/bff/home/u1")],
    "sequential": [(gateway, "/users/u1"), (gateway, "/teams/t-7"), (gateway, "/feed?user=u1")],
    "direct": [(users, "/users/u1"), (teams, "/teams/t-7"), (feed, "/feed?user=u1")],
}
merged = json.loads(get(gateway, "/bff/home/u1"))
if not all(isinstance(merged.get(member), dict) for member in ("user", "team", "feed")):
    sys.exit(f"the composite answer lacks user, team or feed: {merged}")

samples: dict[str, list[float]] = {name: [] for name in variants}
names = list(variants)
for i in range(warmup + iterations):
    shift = i % len(names)
    for name in names[shift:] + names[:shift]:
        start = time.perf_counter_ns()
        for hostport, path in variants[name]:
            get(hostport, path)
        elapsed = (time.perf_counter_ns() - start) / 1e6
        if i >= warmup:
            samples[name].append(elapsed)


def percentile(values: list[float], p: float) -> float:  # nearest rank
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


for name in names:
    print(f"{name} {percentile(samples[name], 0.50):.3f} {percentile(samples[name], 0.99):.3f} {len(samples[name])}")
