"""Routing labs in network namespaces the tests create (issue 14).

Each router is a real daemon from Debian in its own namespace (netns.py):
GoBGP (`gobgpd`, driven by its `gobgp` CLI over gRPC on the namespace's
127.0.0.1), FRR's `bgpd` with its BMP module, or BIRD 2 (driven by
`birdc` over its control socket). `Lab.link(a, b)` joins two routers with
a veth pair, a /30 of 198.19.0.0/16 on it (RFC 2544's benchmarking
range), and their BGP session runs over it on port 179. `Lab.uplink(a)`
joins a router to the root namespace with a veth pair in 198.18.0.0/16,
so that it streams BMP to `meridian serve` listening on the root end's
address (an interface that exists only while the lab lives).

`Lab` is a context manager: leaving it stops every daemon (SIGTERM, then
SIGKILL, bounded) and deletes every namespace, whatever happened.
`netns.unavailable()` says why a lab cannot run here (not root).
"""
import json
import os
import pathlib
import shutil
import subprocess
import time

import netns

GOBGPD = shutil.which("gobgpd") or "/usr/bin/gobgpd"
GOBGP = shutil.which("gobgp") or "/usr/bin/gobgp"
BIRD = shutil.which("bird") or "/usr/sbin/bird"
BIRDC = shutil.which("birdc") or "/usr/sbin/birdc"
BGPD = "/usr/lib/frr/bgpd"  # Debian's frr keeps its daemons out of PATH
VTYSH = shutil.which("vtysh") or "/usr/bin/vtysh"
FRR_NAME = "frr-lab"
GOBGP_API = "127.0.0.1:50051"  # inside the router's own namespace


def _addr(cidr):
    return cidr.split("/")[0]


class Lab:
    """Routers in namespaces of their own, linked by veth pairs."""

    def __init__(self, work):
        self.work = pathlib.Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.ns = {}
        self.daemons = []
        self.links = 0
        # the root namespace's ends: a /30 of 198.18.0.0/16 that no interface
        # here has, drawn at random so that labs can run side by side
        self.up_net = netns.free_net30()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def router(self, name):
        """The namespace of router name, made on first use."""
        if name not in self.ns:
            self.ns[name] = netns.Netns("mrdbgp")
        return self.ns[name]

    def link(self, a, b):
        """A veth pair between routers a and b: (a's address, b's address)."""
        net = self.links
        self.links += 1
        aa, bb = f"198.19.{net}.1/30", f"198.19.{net}.2/30"
        netns.veth(self.router(a), aa, self.router(b), bb, f"to-{b}"[:15], f"to-{a}"[:15])
        return _addr(aa), _addr(bb)

    def uplink(self, a):
        """A veth pair from the root namespace to router a: the root end's
        address (where meridian listens for BMP) and a's."""
        third, fourth = self.up_net
        root, ns = f"198.18.{third}.{fourth + 1}", f"198.18.{third}.{fourth + 2}"
        netns.veth(None, root + "/30", self.router(a), ns + "/30", name_b="uplink")
        return root, ns

    def add(self, daemon):
        """Stops daemon (anything with stop(), a meridian Node too) on close,
        before what was added earlier."""
        self.daemons.append(daemon)
        return daemon

    def close(self):
        """Stops every daemon, then deletes every namespace, even when a
        stop fails (that failure is raised afterwards)."""
        failed = None
        while self.daemons:
            try:
                self.daemons.pop().stop()
            except BaseException as e:  # raised below, once all is down
                failed = failed or e
        for ns in self.ns.values():
            ns.close()
        self.ns = {}
        if failed is not None:
            raise failed


class Daemon:
    """A daemon run inside a router's namespace, its output in NAME.log."""

    def __init__(self, lab, name, cmd):
        self.lab, self.name, self.ns = lab, name, lab.router(name)
        self.log = open(lab.work / f"{name}.log", "w")
        self.proc = self.ns.popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        lab.add(self)

    def stop(self):
        netns.stop(self.proc)
        self.log.close()


class Gobgp(Daemon):
    """gobgpd as AS asn at addr with one neighbour (peer_as at peer_addr),
    IPv4 and IPv6 unicast, optionally passive and streaming BMP
    (pre-policy) to bmp = (address, port)."""

    def __init__(self, lab, name, asn, addr, peer_as, peer_addr, passive=False, bmp=None):
        assert os.access(GOBGPD, os.X_OK), \
            "gobgpd is missing: scripts/bootstrap installs Debian's gobgpd"
        afis = "".join(f"""
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "{f}"
""" for f in ("ipv4-unicast", "ipv6-unicast"))
        text = f"""
[global.config]
  as = {asn}
  router-id = "{addr}"
  port = 179
  local-address-list = ["{addr}"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "{peer_addr}"
    peer-as = {peer_as}
  [neighbors.transport.config]
    local-address = "{addr}"
    passive-mode = {"true" if passive else "false"}
  [neighbors.timers.config]
    connect-retry = 1
{afis}"""
        if bmp is not None:
            text += f"""
[[bmp-servers]]
  [bmp-servers.config]
    address = "{bmp[0]}"
    port = {bmp[1]}
    route-monitoring-policy = "pre-policy"
"""
        conf = lab.work / f"{name}.toml"
        conf.write_text(text)
        super().__init__(lab, name, [GOBGPD, "-f", conf, "-p", "--api-hosts", GOBGP_API,
                                     "--pprof-disable"])

    def cli(self, *args, check=True):
        p = self.ns.run(GOBGP, "-u", GOBGP_API.split(":")[0], "-p", GOBGP_API.split(":")[1],
                        *args, check=False, timeout=20)
        if check:
            assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p

    def established(self):
        p = self.cli("neighbor", check=False)
        return p.returncode == 0 and "Establ" in p.stdout

    def announce(self, prefix, path=None, *attrs):
        """Adds prefix to the global RIB (sent to the neighbour with this
        AS prepended), with AS path path (text, or None: empty)."""
        v6 = ":" in prefix
        self.cli("global", "rib", "add", "-a", "ipv6" if v6 else "ipv4", prefix,
                 *(("aspath", path) if path else ("origin", "igp")),
                 "nexthop", "2001:db8::1" if v6 else "192.0.2.1", *attrs)

    def withdraw(self, prefix):
        self.cli("global", "rib", "del", "-a", "ipv6" if ":" in prefix else "ipv4", prefix)


class Frr(Daemon):
    """FRR's bgpd (Debian frr) with its BMP module, without zebra (-Z) or
    the kernel, as root without dropping privileges (-S): AS asn at addr,
    passive towards its neighbour, streaming BMP (pre-policy Adj-RIB-In,
    which FRR keeps only with soft-reconfiguration inbound) to bmp =
    (address, port)."""

    def __init__(self, lab, name, asn, addr, peer_as, peer_addr, bmp):
        assert os.access(BGPD, os.X_OK), "FRR is missing: scripts/bootstrap installs Debian's frr"
        self.vty = lab.work / f"{name}-vty"
        self.vty.mkdir()
        self.peer = peer_addr
        conf = lab.work / f"{name}-bgpd.conf"
        # no zebra: nothing tells bgpd the neighbour is on a connected
        # network, so the single-hop eBGP check is off
        conf.write_text(f"""hostname {FRR_NAME}
router bgp {asn}
 bgp router-id {addr}
 no bgp ebgp-requires-policy
 neighbor {peer_addr} remote-as {peer_as}
 neighbor {peer_addr} passive
 neighbor {peer_addr} disable-connected-check
 address-family ipv4 unicast
  neighbor {peer_addr} soft-reconfiguration inbound
 exit-address-family
 address-family ipv6 unicast
  neighbor {peer_addr} activate
  neighbor {peer_addr} soft-reconfiguration inbound
 exit-address-family
 bmp targets meridian
  bmp monitor ipv4 unicast pre-policy
  bmp monitor ipv6 unicast pre-policy
  bmp connect {bmp[0]} port {bmp[1]} min-retry 100 max-retry 1000
 exit
""")
        super().__init__(lab, name, [BGPD, "-S", "-Z", "-l", addr, "-p", "179", "-P", "0",
                                     "-M", "bmp", "-f", conf,
                                     "-i", lab.work / f"{name}-bgpd.pid",
                                     "--vty_socket", self.vty])

    def vtysh(self, *commands):
        args = [VTYSH, "--vty_socket", str(self.vty), "-d", "bgpd"]
        for c in commands:
            args += ["-c", c]
        p = subprocess.run(args, capture_output=True, text=True, timeout=20)
        return p.stdout if p.returncode == 0 else ""

    def established(self):
        text = self.vtysh("show bgp ipv4 unicast summary json")
        try:
            return json.loads(text)["peers"][self.peer]["state"] == "Established"
        except (ValueError, KeyError):
            return False


class Bird(Daemon):
    """BIRD 2 (Debian bird2) with the configuration body given (after
    `router id` and `protocol device`), driven by birdc over its control
    socket."""

    def __init__(self, lab, name, router_id, body):
        assert os.access(BIRD, os.X_OK), \
            "bird is missing: scripts/bootstrap installs Debian's bird2"
        self.ctl = lab.work / f"{name}.ctl"
        conf = lab.work / f"{name}.conf"
        conf.write_text(f"router id {router_id};\nprotocol device {{ }}\n{body}")
        super().__init__(lab, name, [BIRD, "-f", "-c", conf, "-s", self.ctl,
                                     "-P", lab.work / f"{name}.pid"])

    def cli(self, *args, check=True):
        p = subprocess.run([BIRDC, "-s", str(self.ctl), *args], capture_output=True, text=True,
                           timeout=20)
        if check:
            assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p.stdout

    def established(self, protocol):
        p = subprocess.run([BIRDC, "-s", str(self.ctl), "show", "protocols", protocol],
                           capture_output=True, text=True, timeout=20)
        return p.returncode == 0 and "Established" in p.stdout


# ---- RFC 9234 Only-To-Customer, set by BIRD 2's BGP roles, then leaked ----

OTC_PREFIX, OTC_OWN = "10.60.0.0/16", "10.61.0.0/16"
# Only the leaker's link to its provider 3356 is known (and 3356 peers with
# the monitored AS): the valley-free check cannot judge the route's first
# link, the OTC attribute can.
OTC_ASREL = "3356|64530|-1\n3356|65001|0\n"


def bird_bgp(name, addr, asn, peer_addr, peer_as, role=None, imp="all", exp="all"):
    """A BIRD 2 `protocol bgp` block, with a BGP role (RFC 9234) if role."""
    return f"""
protocol bgp {name} {{
  local {addr} as {asn};
  neighbor {peer_addr} as {peer_as};
  {f"local role {role};" if role else ""}
  connect retry time 1;
  ipv4 {{ import {imp}; export {exp}; }};
}}
"""


def otc_leak(lab, bmp, wait=True):
    """AS64531 (BIRD 2, `local role provider`) announces OTC_PREFIX to its
    customer AS64530 (BIRD 2, `local role customer`): the roles put
    Only-To-Customer 64531 on the route (RFC 9234 §5). AS64530 leaks it,
    with its own OTC_OWN, to its provider AS3356 (BIRD, over a session
    without a role, as a misconfigured router has), which passes both to
    the monitored GoBGP AS65001 streaming BMP to bmp = (address, port).
    AS64530 leaks both to a second provider too, AS174 (BIRD, `local role
    provider`), which applies RFC 9234 itself: BIRD's own verdict on the
    leak. With wait, returns once both routes are in the monitored router's
    RIB. Returns (the monitored GoBGP, the leaker's BIRD, AS174's BIRD)."""
    m_t, t_m = lab.link("monitored", "transit")
    t_l, l_t = lab.link("transit", "leaker")
    l_p, p_l = lab.link("leaker", "provider")
    l_a, a_l = lab.link("leaker", "auditor")
    monitored = Gobgp(lab, "monitored", 65001, m_t, 3356, t_m, passive=True, bmp=bmp)
    Bird(lab, "provider", p_l,
         f"protocol static origin {{ ipv4; route {OTC_PREFIX} blackhole; }}\n"
         + bird_bgp("customer", p_l, 64531, l_p, 64530, role="provider"))
    leaker = Bird(lab, "leaker", l_p,
                  f"protocol static origin {{ ipv4; route {OTC_OWN} blackhole; }}\n"
                  + bird_bgp("up", l_p, 64530, p_l, 64531, role="customer", exp="none")
                  + bird_bgp("leak", l_t, 64530, t_l, 3356, imp="none")
                  + bird_bgp("leak2", l_a, 64530, a_l, 174, imp="none"))
    auditor = Bird(lab, "auditor", a_l,
                   bird_bgp("customer", a_l, 174, l_a, 64530, role="provider", exp="none"))
    Bird(lab, "transit", t_l,
         bird_bgp("customer", t_l, 3356, l_t, 64530, exp="none")
         + bird_bgp("peer", t_m, 3356, m_t, 65001, imp="none"))
    if wait:
        def rib():
            return monitored.cli("global", "rib", "-a", "ipv4", check=False).stdout
        _wait(lambda: OTC_PREFIX in rib() and OTC_OWN in rib(), 90)
    return monitored, leaker, auditor


def _wait(pred, timeout):
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise TimeoutError(f"lab condition not met within {timeout}s")
        time.sleep(0.2)
