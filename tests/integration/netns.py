"""Network namespaces that a test creates, for its labs of real daemons.

`Netns` is one namespace (a unique name, loopback up), its commands run
with `ip netns exec`, deleted by `close()`; `veth()` links two of them (or
one and the root namespace) with addresses on both ends; `stop()` ends a
child process, SIGTERM then SIGKILL, each bounded in time. `unavailable()`
says why no namespace can be made here (not root, no `ip`), for a skip
with that reason. Used by the DNS lab (dnslab.py) and the routing labs
(bgplab.py).
"""
import os
import random
import shutil
import signal
import subprocess
import uuid


def unavailable():
    """None when this process can create network namespaces, else why not."""
    if shutil.which("ip") is None and not os.path.exists("/usr/sbin/ip"):
        return "no `ip` (Debian iproute2) to create network namespaces"
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    return None


def stop(proc, timeout=10, sig=signal.SIGTERM):
    """Ends a child process: sig, then SIGKILL after timeout seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


class Netns:
    """One network namespace named prefix + 8 hex digits, loopback up."""

    def __init__(self, prefix):
        self.name = f"{prefix}{uuid.uuid4().hex[:8]}"
        p = subprocess.run(["ip", "netns", "add", self.name], capture_output=True, text=True,
                           timeout=30)
        if p.returncode != 0:
            raise PermissionError(f"ip netns add {self.name}: {p.stderr.strip()}")
        try:
            self.run("ip", "link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise

    def cmd(self, *cmd):
        """The argument vector that runs cmd inside the namespace."""
        return ["ip", "netns", "exec", self.name, *map(str, cmd)]

    def run(self, *cmd, check=True, timeout=60):
        return subprocess.run(self.cmd(*cmd), capture_output=True, text=True, timeout=timeout,
                              check=check)

    def popen(self, cmd, **kw):
        return subprocess.Popen(self.cmd(*cmd), **kw)

    def close(self):
        """Deletes the namespace (its interfaces go with it); idempotent."""
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=30)


def free_net30():
    """(third, fourth): a /30 198.18.third.fourth of 198.18.0.0/16 that no
    interface of the root namespace has, drawn at random so that labs can
    run side by side; its .fourth+1 and .fourth+2 are the veth ends."""
    used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True,
                          timeout=30).stdout
    while True:
        net = (random.randrange(256), 4 * random.randrange(64))
        if not any(f"inet 198.18.{net[0]}.{net[1] + i}/" in used for i in range(4)):
            return net


def _ip(ns, *args):
    cmd = ns.cmd("ip", *args) if ns is not None else ["ip", *map(str, args)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")


def veth(a, addr_a, b, addr_b, name_a="veth0", name_b="veth0"):
    """A veth pair from namespace a (None: the root namespace) to b, with
    addr_a and addr_b (CIDR, e.g. "198.19.0.1/30") on its ends, both up.
    An end in the root namespace gets a unique name (mv + 8 hex digits),
    so that concurrent labs never clash there; it disappears when the
    other end's namespace is deleted."""
    if a is None:
        name_a = f"mv{uuid.uuid4().hex[:8]}"
    where_a = ["netns", a.name] if a is not None else []
    _ip(None, "link", "add", name_a, *where_a, "type", "veth", "peer", "name", name_b,
        "netns", b.name)
    for ns, name, addr in ((a, name_a, addr_a), (b, name_b, addr_b)):
        _ip(ns, "addr", "add", addr, "dev", name)
        _ip(ns, "link", "set", name, "up")
    return name_a, name_b
