"""Starts the built `portico serve` for the browser tests and learns its ports from its log.

The config's listeners ask for port 0, so the kernel picks a free port as the socket binds and no
other process can take it in between (a port picked beforehand and closed again could be taken,
by another listener or as the local port of an outgoing connection, before portico binds it).
portico logs `gateway listening` and `admin listening` with the bound address; this reads them.
"""
import json
import time
import urllib.request


def _log_lines(log_path):
    with open(log_path, errors="replace") as f:
        for line in f:
            try:
                yield json.loads(line)
            except ValueError:
                continue


def _tail(log_path, count=40):
    with open(log_path, errors="replace") as f:
        return "".join(f.readlines()[-count:])


def wait_until_ready(process, log_path, listeners=("gateway",), ready_path="/readyz", timeout=60):
    """Returns {listener: port} once every listener has logged its port and the gateway answers
    `ready_path`; raises with the log's last lines if the process exits or the time runs out."""
    deadline = time.time() + timeout
    ports = {}
    while True:
        if len(ports) < len(listeners):
            for line in _log_lines(log_path):
                for listener in listeners:
                    if line.get("msg") == listener + " listening" and listener not in ports:
                        ports[listener] = int(line["listen.address"].rsplit(":", 1)[1])
        if len(ports) == len(listeners):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ports['gateway']}{ready_path}", timeout=2) as response:
                    if response.status == 200:
                        return ports
            except Exception:
                pass
        status = process.poll()
        if status is not None or time.time() > deadline:
            reason = f"exited with status {status}" if status is not None else f"was not ready within {timeout} s"
            raise RuntimeError(f"portico {reason}; the last lines of {log_path}:\n{_tail(log_path)}")
        time.sleep(0.1)
