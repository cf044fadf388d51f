"""A local Ray that deepaudit starts stays on this machine (issue 18).

Every socket its processes listen on is a loopback one, usage stats are off in each of
them, none of them sends an HTTP request (to 169.254.169.254 or metadata.google.internal,
say: a recording proxy sees them), the driver never asks which local address routes to
8.8.8.8, and the caller's environment is as it was. Run in a fresh process: Ray keeps
the first auth token it reads for the life of a process, and the other Ray tests give
theirs.
"""

from __future__ import annotations

import json
import os
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: What deepaudit sets while it starts Ray (and must put back).
NAMES = ("RAY_AUTH_TOKEN", "RAY_USAGE_STATS_ENABLED", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")

SCRIPT = """
import ipaddress, json, os, socket, sys
import ray
import psutil  # Ray's copy (ray/thirdparty_files), importable once ray is imported
import ray._private.services as services
from deepaudit.audit.engine import open_engine
from tests.audit import scale_toys as toys

probes = []  # the driver's look-ups of the address that routes to 8.8.8.8
real = services.node_ip_address_from_perspective
services.node_ip_address_from_perspective = lambda *a: probes.append(a) or real(*a)

def loopback(host):
    address = ipaddress.ip_address(host.split("%")[0])
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback

NAMES = sys.argv[1:]  # what deepaudit sets while it starts Ray
before = dict(os.environ)
engine = open_engine("ray", workers=1)
engine.start(toys.in_memory(toys.table(n=50, seed=3), toys.model()))  # an actor: its gRPC
sockets, usage_on = [], []
for proc in psutil.Process().children(recursive=True):  # every Ray process started
    try:
        name = proc.name()
        for c in proc.net_connections(kind="inet"):  # /proc/net/tcp{,6}, udp{,6} + fds
            if c.status == psutil.CONN_LISTEN or (c.type == socket.SOCK_DGRAM and not c.raddr):
                sockets.append([name, c.laddr.ip, c.laddr.port, loopback(c.laddr.ip)])
        env = proc.environ()  # empty where setproctitle wrote over it (the agents)
        if env and env.get("RAY_USAGE_STATS_ENABLED") != "0":
            usage_on.append(name)
    except psutil.NoSuchProcess:
        pass
node = ray.nodes()[0]["NodeManagerAddress"]
node = [node, loopback(node)]
engine.close()
print(json.dumps({
    "sockets": sockets, "usage_on": usage_on, "node": node, "probes": len(probes),
    "environ_changed": [k for k in NAMES if os.environ.get(k) != before.get(k)],
}))
"""


class _Proxy(socketserver.StreamRequestHandler):
    """An HTTP(S) proxy that forwards nothing: it keeps the first line of each request."""

    def handle(self) -> None:
        self.server.seen.append(self.rfile.readline(300).decode(errors="replace").strip())


@pytest.fixture
def proxy():
    """The environment that sends every process's HTTP(S) through :class:`_Proxy`, and
    the request lines it got."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Proxy) as server:
        server.seen = []
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        local = "127.0.0.1,localhost,::1"
        env = {"http_proxy": url, "https_proxy": url, "no_proxy": local}
        yield env | {name.upper(): value for name, value in env.items()}, server.seen
        server.shutdown()


@pytest.mark.slow
def test_a_local_ray_listens_on_loopback_only_with_usage_stats_off(proxy):
    pytest.importorskip("ray")
    if not Path("/proc/net/tcp").exists():
        pytest.skip("reads sockets through /proc (Linux)")
    proxy_env, requests = proxy
    env = {k: v for k, v in os.environ.items() if k not in (*NAMES, "RAY_ADDRESS")} | proxy_env
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, *NAMES], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["sockets"], "no listening socket found: the scan is broken"
    seen = {
        "non-loopback sockets (process, address, port)": [
            s[:3] for s in result["sockets"] if not s[3]
        ],
        "node address": result["node"],
        "driver look-ups of the address that routes to 8.8.8.8": result["probes"],
        "processes with usage stats on": result["usage_on"],
        "environment variables left changed": result["environ_changed"],
        "HTTP(S) requests sent": requests,
    }
    want = dict(zip(seen, ([], [result["node"][0], True], 0, [], [], []), strict=True))
    assert seen == want, json.dumps(seen, indent=1)
