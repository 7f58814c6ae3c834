"""A private DNS world in a network namespace, for the DNS sensor's tests.

Real Debian servers: NSD serves a signed private root (10.53.0.1), a signed
TLD `tld.` (10.53.0.2), a signed watched zone `example.tld.` (10.53.0.3) and
a hijacker's unsigned copy of it (10.53.0.4); Unbound validates with the
private root's trust anchor and RFC 8914 Extended DNS Errors on (10.53.0.9,
and fd53::9 over IPv6; the root answers on fd53::1 too),
and a second Unbound is steered to a forged answer with local-data
(10.53.0.10). Lab.start_injector() adds an on-path injector: a python3 raw
socket that sees every query to the validating Unbound and races it with a
forged answer (same id and question, sent from the resolver's address with
another IP TTL), as national DNS filters do. Keys are made by ldns-keygen and zones signed by
ldns-signzone each time the lab starts; nothing is downloaded.

Every server is a child process started here, bound to an address on the
namespace's loopback, waited for with a bounded poll and stopped by
Lab.close(), which also deletes the namespace (netns.py). Used as a
context manager.
"""

import os
import shutil
import socket
import struct
import subprocess
import time

import netns

ROOT, TLD, ZONE, HIJACK, VANTAGE, FORGER = ("10.53.0.1", "10.53.0.2", "10.53.0.3",
                                            "10.53.0.4", "10.53.0.9", "10.53.0.10")
ROOT6, VANTAGE6 = "fd53::1", "fd53::9"  # the root and the validating Unbound over IPv6 too
WWW = "192.0.2.80"
FORGED = "45.33.32.66"   # a routed address, so the rule that fires is divergence
INJECTED = "10.10.34.34"  # what the on-path injector answers: a censorship fingerprint
INJECTED_TTL = 200        # the IP TTL it sends with (the lab's own packets have 64)
TOOLS = ("ip", "nsd", "unbound", "ldns-keygen", "ldns-signzone", "ldns-key2ds", "openssl")


def tools_missing():
    return [t for t in TOOLS if shutil.which(t) is None and
            not os.path.exists(os.path.join("/usr/sbin", t))]


def _tool(name):
    return shutil.which(name) or os.path.join("/usr/sbin", name)


def _stamp(offset):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + offset))


SOA = "@ 3600 IN SOA ns.{z} hostmaster.{z} {serial} 3600 600 86400 60\n"


class Lab:
    def __init__(self, work, extra_names=0):
        self.work = str(work)
        self.netns = None
        self.procs = {}
        self.keys = {}
        self.serial = int(time.time())
        self.tld_delegates = "honest"  # or "hijack"
        self.tld_ds = "right"          # or "wrong"
        self.zone_sig_offset = (-3600, 30 * 86400)  # inception, expiration from now
        self.extra_names = extra_names  # bench/dns: n0 .. nN-1.example.tld. A records
        self.vantage_ede = True  # False: the validating Unbound sends no RFC 8914 EDE

    # ---- namespace -------------------------------------------------------
    def __enter__(self):
        self.netns = netns.Netns("mrddns")
        self.ns = self.netns.name
        try:
            for a in (ROOT, TLD, ZONE, HIJACK, VANTAGE, FORGER):
                self.ns_run("ip", "addr", "add", a + "/32", "dev", "lo")
            for a in (ROOT6, VANTAGE6):
                self.ns_run("ip", "-6", "addr", "add", a + "/128", "dev", "lo", "nodad")
            for z in ("root", "tld", "example.tld", "other.tld"):
                self._keygen(z)
            self.write_zones()
            for name, addr in (("root", ROOT), ("tld", TLD), ("zone", ZONE),
                               ("hijack", HIJACK)):
                self.start_nsd(name, addr)
            self.start_unbound("vantage", VANTAGE, forged=False)
            self.start_unbound("forger", FORGER, forged=True)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def ns_run(self, *cmd, check=True, timeout=60):
        return self.netns.run(*cmd, check=check, timeout=timeout)

    def close(self):
        for name in list(self.procs):
            self.stop(name)
        if self.netns is not None:
            self.netns.close()

    # ---- keys and zones --------------------------------------------------
    def _keygen(self, zone):
        d = os.path.join(self.work, "keys")
        os.makedirs(d, exist_ok=True)
        origin = "." if zone == "root" else zone + "."
        base = subprocess.run([_tool("ldns-keygen"), "-a", "ECDSAP256SHA256", "-k", origin],
                              cwd=d, capture_output=True, text=True, check=True,
                              timeout=30).stdout.strip()
        ds = subprocess.run([_tool("ldns-key2ds"), "-n", "-2", base + ".key"], cwd=d,
                            capture_output=True, text=True, check=True, timeout=30).stdout
        self.keys[zone] = (os.path.join(d, base), ds.strip())

    def _sign(self, name, origin, body, key, incept, expire):
        path = os.path.join(self.work, name + ".zone")
        with open(path, "w") as f:
            f.write(f"$ORIGIN {origin}\n$TTL 60\n" + body)
        subprocess.run([_tool("ldns-signzone"), "-i", _stamp(incept), "-e", _stamp(expire),
                        "-o", origin, path, key], check=True, capture_output=True, timeout=60)
        return path + ".signed"

    def write_zones(self):
        self.serial += 1
        s = self.serial
        root = (SOA.format(z="root-servers.", serial=s) +
                "@ NS a.root-servers.\na.root-servers. A " + ROOT + "\n"
                "tld. NS ns.tld.\nns.tld. A " + TLD + "\n" + self.keys["tld"][1] + "\n")
        self._sign("root", ".", root, self.keys["root"][0], -3600, 30 * 86400)
        if self.tld_delegates == "hijack":
            deleg = "example.tld. NS ns9.example.tld.\nns9.example.tld. A " + HIJACK + "\n"
        else:
            deleg = "example.tld. NS ns1.example.tld.\nns1.example.tld. A " + ZONE + "\n"
        ds = self.keys["example.tld" if self.tld_ds == "right" else "other.tld"][1]
        ds = ds.replace("other.tld.", "example.tld.")
        if self.tld_delegates == "honest":
            deleg += ds + "\n"
        tld = (SOA.format(z="tld.", serial=s) + "@ NS ns.tld.\nns.tld. A " + TLD + "\n" + deleg)
        self._sign("tld", "tld.", tld, self.keys["tld"][0], -3600, 30 * 86400)
        zone = (SOA.format(z="example.tld.", serial=s) +
                "@ NS ns1.example.tld.\nns1 A " + ZONE + "\nwww A " + WWW + "\n" +
                "".join(f"n{i} A 192.0.2.{i % 250 + 1}\n" for i in range(self.extra_names)))
        inc, exp = self.zone_sig_offset
        self._sign("example.tld", "example.tld.", zone, self.keys["example.tld"][0], inc, exp)
        with open(os.path.join(self.work, "hijack.zone"), "w") as f:
            f.write("$ORIGIN example.tld.\n$TTL 60\n" + SOA.format(z="example.tld.", serial=s) +
                    "@ NS ns9.example.tld.\nns9 A " + HIJACK + "\nwww A " + FORGED + "\n")
        with open(os.path.join(self.work, "root.ds"), "w") as f:
            f.write(self.keys["root"][1] + "\n")
        with open(os.path.join(self.work, "root.hints"), "w") as f:
            f.write(". 3600 NS a.root-servers.\na.root-servers. 3600 A " + ROOT + "\n")

    # ---- servers ---------------------------------------------------------
    def _wait_udp(self, addr, qname, proc, log):
        """Polls addr:53 (inside the namespace) until it answers a query."""
        q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
        for label in qname.strip(".").split("."):
            if label:
                q += bytes([len(label)]) + label.encode()
        q += b"\0" + struct.pack(">HH", 6, 1)
        probe = ("import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                 "s.settimeout(0.3)\ns.sendto(bytes.fromhex(sys.argv[2]),(sys.argv[1],53))\n"
                 "s.recvfrom(4096)\n")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{log}: exited {proc.returncode}: " + open(log).read()[-2000:])
            p = self.ns_run("/usr/bin/python3", "-c", probe, addr, q.hex(), check=False)
            if p.returncode == 0:
                return
        raise TimeoutError(f"{addr} did not answer within 20 s: " + open(log).read()[-2000:])

    def start_nsd(self, name, addr):
        d = os.path.join(self.work, "nsd-" + name)
        os.makedirs(d, exist_ok=True)
        zone = {"root": (".", "root.zone.signed"), "tld": ("tld.", "tld.zone.signed"),
                "zone": ("example.tld.", "example.tld.zone.signed"),
                "hijack": ("example.tld.", "hijack.zone")}[name]
        conf = os.path.join(d, "nsd.conf")
        also = f"\n    ip-address: {ROOT6}" if name == "root" else ""
        with open(conf, "w") as f:
            f.write(f"""server:
    ip-address: {addr}{also}
    port: 53
    username: ""
    chroot: ""
    zonesdir: "{self.work}"
    pidfile: "{d}/nsd.pid"
    xfrdfile: "{d}/xfrd.state"
    zonelistfile: "{d}/zone.list"
    database: ""
    logfile: "{d}/nsd.log"
    server-count: 1
    verbosity: 1
remote-control:
    control-enable: no
zone:
    name: "{zone[0]}"
    zonefile: "{zone[1]}"
""")
        log = os.path.join(d, "stderr")
        with open(log, "w") as err:
            proc = self.netns.popen([_tool("nsd"), "-d", "-c", conf], stdout=err, stderr=err)
        self.procs[name] = proc
        self._wait_udp(addr, zone[0], proc, log)

    def start_unbound(self, name, addr, forged):
        d = os.path.join(self.work, "unbound-" + name)
        os.makedirs(d, exist_ok=True)
        extra = ""
        if forged:
            extra = (f'    local-zone: "www.example.tld." redirect\n'
                     f'    local-data: "www.example.tld. 60 IN A {FORGED}"\n')
        conf = os.path.join(d, "unbound.conf")
        # The validating one answers over IPv6 too (it still asks upstream over IPv4).
        v6 = (f"\n    interface: {VANTAGE6}\n    access-control: fd53::/16 allow\n"
              "    do-ip6: yes\n    prefer-ip4: yes") if name == "vantage" else "\n    do-ip6: no"
        with open(conf, "w") as f:
            f.write(f"""server:
    interface: {addr}{v6}
    port: 53
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{d}"
    pidfile: "{d}/unbound.pid"
    use-syslog: no
    logfile: "{d}/unbound.log"
    verbosity: 1
    access-control: 10.0.0.0/8 allow
    root-hints: "{self.work}/root.hints"
    trust-anchor-file: "{self.work}/root.ds"
    ede: {"yes" if self.vantage_ede or name != "vantage" else "no"}
    val-log-level: 2
    qname-minimisation: no
    cache-max-ttl: 0
    cache-max-negative-ttl: 0
    val-bogus-ttl: 0
    infra-host-ttl: 1
    num-threads: 1
{extra}remote-control:
    control-enable: no
""")
        log = os.path.join(d, "stderr")
        with open(log, "w") as err:
            proc = self.netns.popen([_tool("unbound"), "-d", "-c", conf], stdout=err,
                                    stderr=err)
        self.procs[name] = proc
        self._wait_udp(addr, ".", proc, log)

    def start_injector(self, qname="www.example.tld.", answer=INJECTED, ttl=INJECTED_TTL,
                       tc=False, rst=False):
        """Forges an answer to every query for qname (A) sent to VANTAGE
        (tc: with the TC bit set, so that the client asks again over TCP;
        rst: and resets every TCP connection to VANTAGE:53 that sends a
        query, from VANTAGE, before the resolver answers)."""
        log = os.path.join(self.work, "injector.log")
        with open(log, "w") as err:
            proc = self.netns.popen(["/usr/bin/python3", os.path.abspath(__file__), "inject",
                                     VANTAGE, qname, answer, str(ttl)] + (["tc"] if tc else []) +
                                    (["rst"] if rst else []),
                                    stdout=subprocess.PIPE, stderr=err, text=True)
        self.procs["injector"] = proc
        line = proc.stdout.readline()  # "ready" once both sockets are open
        if line.strip() != "ready":
            self.stop("injector")
            raise RuntimeError("injector did not start: " + open(log).read()[-2000:])

    def start_tls(self, addr, cert, key, port=443):
        """A TLS server (`openssl s_server`) on addr:port serving cert: the
        web server behind a diverging address, for the TLS excuse."""
        if "tls" not in self.procs:
            self.ns_run("ip", "addr", "replace", addr + "/32", "dev", "lo")
        self.stop("tls")
        log = os.path.join(self.work, "tls.log")
        with open(log, "w") as err:
            proc = subprocess.Popen(["ip", "netns", "exec", self.ns, "openssl", "s_server",
                                     "-accept", f"{addr}:{port}", "-cert", str(cert), "-key",
                                     str(key), "-www", "-quiet", "-state"],
                                    stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=err, text=True)
        self.procs["tls"] = proc
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            p = self.ns_run("/usr/bin/python3", "-c",
                            "import socket,sys; socket.create_connection((sys.argv[1], "
                            "int(sys.argv[2])), 1).close()", addr, str(port), check=False)
            if p.returncode == 0:
                return
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop("tls")
        raise RuntimeError("openssl s_server did not start: " + open(log).read()[-2000:])

    def tls_handshakes(self):
        """How many TLS handshakes the server of start_tls began (its
        `-state` trace, one "read client hello" each; a bare TCP connect,
        as start_tls's own readiness check, is not one)."""
        with open(os.path.join(self.work, "tls.log")) as f:
            return f.read().count("SSL_accept:SSLv3/TLS read client hello")

    def stop(self, name):
        netns.stop(self.procs.pop(name, None))

    def restart(self, *names):
        addrs = {"root": ROOT, "tld": TLD, "zone": ZONE, "hijack": HIJACK,
                 "vantage": VANTAGE, "forger": FORGER}
        for n in names:
            self.stop(n)
            if n in ("vantage", "forger"):
                self.start_unbound(n, addrs[n], forged=(n == "forger"))
            else:
                self.start_nsd(n, addrs[n])

    def reload(self):
        """Re-signs every zone and restarts the name servers and resolvers
        (no cache survives), after a scenario changed what they serve."""
        self.write_zones()
        self.restart("root", "tld", "zone", "hijack", "vantage", "forger")


# ---- fuzz seeds: `ip`-capable root, from the repository's top directory:
#   /usr/bin/python3 tests/integration/dnslab.py seeds tests/fuzz/corpus/dns
# Each seed is selector byte 0 (fuzz_dns: one message) and a real answer
# from the lab's servers (referrals, signed answers with RRSIG, DNSKEY, DS,
# NSEC, SERVFAIL with an Extended DNS Error).

def _query(name, qtype, rd=False, cd=False, do=True):
    flags = (0x0100 if rd else 0) | (0x0010 if cd else 0)
    q = struct.pack(">HHHHHH", 0x1234, flags, 1, 0, 0, 1)
    for label in name.strip(".").split("."):
        if label:
            q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    return q + b"\0" + struct.pack(">HHIH", 41, 1232, 0x8000 if do else 0, 0)


def capture_seeds(out):
    import tempfile
    asks = [(ROOT, "example.tld.", 2, False), (ROOT, ".", 48, False), (TLD, "example.tld.", 43,
                                                                       False),
            (TLD, "nosuch.tld.", 1, False), (ZONE, "example.tld.", 6, False),
            (ZONE, "example.tld.", 48, False), (ZONE, "www.example.tld.", 1, False),
            (VANTAGE, "www.example.tld.", 1, True), (FORGER, "www.example.tld.", 1, True)]
    probe = ("import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
             "s.settimeout(2)\ns.sendto(bytes.fromhex(sys.argv[2]),(sys.argv[1],53))\n"
             "print(s.recvfrom(65535)[0].hex())\n")
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as work, Lab(work) as lab:
        lab.zone_sig_offset = (-10 * 86400, -86400)  # for a SERVFAIL with EDE 7 too
        lab.reload()
        asks.append((VANTAGE, "example.tld.", 6, True))
        for i, (server, name, qtype, rd) in enumerate(asks):
            p = lab.ns_run("/usr/bin/python3", "-c", probe, server, _query(name, qtype, rd).hex())
            with open(os.path.join(out, f"lab-{i:02d}"), "wb") as f:
                f.write(b"\0" + bytes.fromhex(p.stdout.strip()))


def _qname_wire(name):
    return b"".join(bytes([len(x)]) + x.encode() for x in name.strip(".").split(".") if x) + b"\0"


def _csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack(f">{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _reset(tx, pkt):
    """Answers a TCP segment (with data) to the server by a RST from the
    server, with the sequence number the client expects next."""
    ihl = (pkt[0] & 15) * 4
    src, dst = pkt[12:16], pkt[16:20]
    sport, dport, _, ack = struct.unpack(">HHII", pkt[ihl:ihl + 12])
    tcp = struct.pack(">HHIIBBHHH", dport, sport, ack, 0, 5 << 4, 0x04, 0, 0, 0)
    tcp = tcp[:16] + struct.pack(">H", _csum(dst + src + struct.pack(">BBH", 0, 6, len(tcp)) +
                                             tcp)) + tcp[18:]
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, dst, src) + tcp
    tx.sendto(ip, (socket.inet_ntoa(src), 0))


def inject(server, qname, answer, ttl, tc=False, rst=False):
    """The on-path injector (run inside the lab's namespace, as root): a raw
    socket sees each UDP query to server:53 for qname A and answers it at
    once, from server:53, with answer and the IP TTL ttl (tc: and the TC
    bit, truncated). Runs until killed; Lab.stop("injector") does."""
    import select
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    rx_tcp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # header included
    want, target = _qname_wire(qname), socket.inet_aton(server)
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([rx, rx_tcp], [], [])
        if rx_tcp in ready:
            pkt = rx_tcp.recv(65535)
            ihl = (pkt[0] & 15) * 4
            doff = (pkt[ihl + 12] >> 4) * 4 if len(pkt) > ihl + 12 else 0
            if (rst and pkt[16:20] == target and len(pkt) >= ihl + 20 and
                    struct.unpack(">H", pkt[ihl + 2:ihl + 4])[0] == 53 and
                    len(pkt) > ihl + doff):
                _reset(tx, pkt)
        if rx not in ready:
            continue
        pkt = rx.recv(65535)
        ihl = (pkt[0] & 15) * 4
        src, dst = pkt[12:16], pkt[16:20]
        sport, dport = struct.unpack(">HH", pkt[ihl:ihl + 4])
        dns = pkt[ihl + 8:]
        if dst != target or dport != 53 or len(dns) < 12 + len(want) + 4 or dns[2] & 0x80:
            continue
        qend = 12 + len(want)
        if dns[12:qend].lower() != want or dns[qend:qend + 4] != b"\0\1\0\1":
            continue
        resp = (dns[:2] + (b"\x83" if tc else b"\x81") + b"\x80\0\1\0\1\0\0\0\0" +
                dns[12:qend + 4] +
                b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(answer))
        udp = struct.pack(">HHHH", 53, sport, 8 + len(resp), 0) + resp
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, ttl, 17, 0, dst,
                         src) + udp
        tx.sendto(ip, (socket.inet_ntoa(src), 0))


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "seeds":
        capture_seeds(sys.argv[2])
    elif len(sys.argv) in (6, 7, 8) and sys.argv[1] == "inject":
        inject(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]),
               tc="tc" in sys.argv[6:], rst="rst" in sys.argv[6:])
    else:
        sys.exit("usage: dnslab.py seeds OUTDIR | inject SERVER QNAME ADDRESS TTL [tc] [rst]")
