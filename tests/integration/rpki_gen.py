"""A test RPKI repository, built offline, for Debian's rpki-client (issue 14).

    /usr/bin/python3 tests/integration/rpki_gen.py OUTDIR

writes OUTDIR/lab.tal and OUTDIR/cache/, a cache directory that
`rpki-client -n -d OUTDIR/cache -t OUTDIR/lab.tal OUTPUTDIR` validates
without any network (see tests/integration/test_bgp_rpki.py and
docs/bgp.md, "rpki-client lab"):

    rsync://rpki.lab.test/ta/lab.cer     the trust anchor (self-signed, all
                                         resources), named by the TAL
    rsync://rpki.lab.test/repo/ta/       its publication point: manifest
                                         ta.mft, CRL ta.crl, CA certificate ca.cer
    rsync://rpki.lab.test/repo/ca/       the CA's: ca.mft, ca.crl, one ROA per
                                         entry of ROAS (CMS signed objects,
                                         RFC 6488), each with its EE certificate

Certificates follow RFC 6487 (RSA 2048, SHA-256, RFC 3779 IP and AS
resources, SIA/AIA/CRLDP rsync URIs), ROAs RFC 9582, manifests RFC 9286.
ASN.1 is written by the small DER encoder below; keys, certificates and
CRLs by python3-cryptography. rpki-client (8.2) keeps rsync objects in
cachedir/HOST/PATH, so rsync://rpki.lab.test/repo/ca/x.roa is
cache/rpki.lab.test/repo/ca/x.roa, and the certificate a TAL names in
cachedir/ta/TALNAME/FILE (cache/ta/lab/lab.cer for lab.tal).
"""
import base64
import contextlib
import datetime
import hashlib
import ipaddress
import os
import pathlib
import pwd
import shutil
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

HOST = "rpki.lab.test"
TA_URI = f"rsync://{HOST}/ta/lab.cer"
TA_REPO = f"rsync://{HOST}/repo/ta/"
CA_REPO = f"rsync://{HOST}/repo/ca/"

# The ROAs the CA signs: (file, ASN, [(prefix, maxLength or None)]).
ROAS = [
    ("as64500.roa", 64500, [("192.0.2.0/24", None)]),
    ("as64501.roa", 64501, [("198.51.100.0/24", 26), ("2001:db8:100::/40", 48)]),
    ("as0.roa", 0, [("203.0.113.0/24", 32)]),
    ("as64502.roa", 64502, [("2001:db8::/32", None)]),
    ("as64503.roa", 64503, [("192.0.2.128/25", 25)]),
]
# The resources of the CA certificate (the ROAs must lie inside them).
CA_IPS = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"]
CA_ASNS = [(64496, 64511)]

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_RSA = "1.2.840.113549.1.1.1"
OID_CT_ROA = "1.2.840.113549.1.9.16.1.24"
OID_CT_MFT = "1.2.840.113549.1.9.16.1.26"
OID_ATTR_CT = "1.2.840.113549.1.9.3"
OID_ATTR_DIGEST = "1.2.840.113549.1.9.4"
OID_ATTR_TIME = "1.2.840.113549.1.9.5"
OID_IP_BLOCKS = "1.3.6.1.5.5.7.1.7"
OID_AS_IDS = "1.3.6.1.5.5.7.1.8"
OID_RPKI_POLICY = "1.3.6.1.5.5.7.14.2"
OID_CA_REPOSITORY = "1.3.6.1.5.5.7.48.5"
OID_RPKI_MANIFEST = "1.3.6.1.5.5.7.48.10"
OID_SIGNED_OBJECT = "1.3.6.1.5.5.7.48.11"


# ---- DER ----------------------------------------------------------------

def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + body


def seq(*items):
    return tlv(0x30, b"".join(items))


def set_of(*items):
    return tlv(0x31, b"".join(sorted(items)))  # DER: SET OF sorted by encoding


def integer(v):
    return tlv(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big", signed=True))


def octets(b):
    return tlv(0x04, b)


def null():
    return b"\x05\x00"


def oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        body += bytes(reversed(chunk))
    return tlv(0x06, body)


def ia5(s):
    return tlv(0x16, s.encode("ascii"))


def gentime(t):
    return tlv(0x18, t.strftime("%Y%m%d%H%M%SZ").encode())


def utctime(t):
    return tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())


def bits(data, unused=0):
    return tlv(0x03, bytes([unused]) + data)


def explicit(n, body):
    return tlv(0xA0 | n, body)


def prefix_bits(net):
    """An RFC 3779 §2.1.2 address prefix: the prefix's bits, exactly."""
    n = net.prefixlen
    raw = net.network_address.packed[:(n + 7) // 8]
    return bits(raw, (8 - n % 8) % 8)


def afi(net):
    return b"\x00\x01" if net.version == 4 else b"\x00\x02"


# ---- RFC 3779 extensions -------------------------------------------------

def ip_blocks(prefixes):
    """IPAddrBlocks with explicit prefixes, or inherit for both families (None)."""
    if prefixes is None:
        return seq(seq(octets(b"\x00\x01"), null()), seq(octets(b"\x00\x02"), null()))
    nets = sorted((ipaddress.ip_network(p) for p in prefixes),
                  key=lambda n: (n.version, n.network_address.packed, n.prefixlen))
    fams = []
    for v in (4, 6):
        mine = [n for n in nets if n.version == v]
        if mine:
            fams.append(seq(octets(afi(mine[0])), seq(*(prefix_bits(n) for n in mine))))
    return seq(*fams)


def as_ids(ranges):
    """ASIdentifiers: asnum with the ranges, or inherit (None)."""
    if ranges is None:
        return seq(explicit(0, null()))
    items = [integer(lo) if lo == hi else seq(integer(lo), integer(hi)) for lo, hi in ranges]
    return seq(explicit(0, seq(*items)))


# ---- certificates and CRLs -----------------------------------------------

def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ski_of(key):
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest


def name_of(key):
    # RFC 6487 §4.5: a CommonName; the key's SKI in hex is the usual choice
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ski_of(key).hex())])


def uri(u):
    return x509.UniformResourceIdentifier(u)


def certificate(key, issuer_key, serial, start, end, *, ca, ips, asns, sia,
                crl_uri=None, issuer_uri=None):
    b = (x509.CertificateBuilder()
         .subject_name(name_of(key)).issuer_name(name_of(issuer_key))
         .public_key(key.public_key()).serial_number(serial)
         .not_valid_before(start).not_valid_after(end)
         .add_extension(x509.SubjectKeyIdentifier(ski_of(key)), critical=False))
    if issuer_key is not key:
        b = b.add_extension(x509.AuthorityKeyIdentifier(ski_of(issuer_key), None, None),
                            critical=False)
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [uri(crl_uri)], None, None, None)]), critical=False)
        b = b.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            x509.oid.AuthorityInformationAccessOID.CA_ISSUERS, uri(issuer_uri))]),
            critical=False)
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    b = b.add_extension(x509.KeyUsage(
        digital_signature=not ca, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False), critical=True)
    b = b.add_extension(x509.SubjectInformationAccess(
        [x509.AccessDescription(ObjectIdentifier(m), uri(u)) for m, u in sia]), critical=False)
    b = b.add_extension(x509.CertificatePolicies([x509.PolicyInformation(
        ObjectIdentifier(OID_RPKI_POLICY), None)]), critical=True)
    b = b.add_extension(x509.UnrecognizedExtension(ObjectIdentifier(OID_IP_BLOCKS),
                                                   ip_blocks(ips)), critical=True)
    if asns is not False:
        b = b.add_extension(x509.UnrecognizedExtension(ObjectIdentifier(OID_AS_IDS),
                                                       as_ids(asns)), critical=True)
    return b.sign(issuer_key, hashes.SHA256())


def crl(issuer_key, number, start, end):
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(name_of(issuer_key)).last_update(start).next_update(end)
         .add_extension(x509.AuthorityKeyIdentifier(ski_of(issuer_key), None, None),
                        critical=False)
         .add_extension(x509.CRLNumber(number), critical=False))
    return b.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


# ---- signed objects (RFC 6488) ------------------------------------------

def signed_object(econtent_type, econtent, ee_cert, ee_key, when):
    """A CMS SignedData (RFC 5652) as RFC 6488 §2.1 profiles it."""
    sha256 = seq(oid(OID_SHA256))
    attrs = [
        seq(oid(OID_ATTR_CT), set_of(oid(econtent_type))),
        seq(oid(OID_ATTR_DIGEST), set_of(octets(hashlib.sha256(econtent).digest()))),
        seq(oid(OID_ATTR_TIME), set_of(utctime(when))),
    ]
    body = b"".join(sorted(attrs))
    # signed as a SET (RFC 5652 §5.4), carried as [0] IMPLICIT
    signature = ee_key.sign(tlv(0x31, body), padding.PKCS1v15(), hashes.SHA256())
    ski = ee_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    signer = seq(integer(3), tlv(0x80, ski), sha256, tlv(0xA0, body),
                 seq(oid(OID_RSA), null()), octets(signature))
    cert_der = ee_cert.public_bytes(serialization.Encoding.DER)
    sd = seq(integer(3), set_of(sha256),
             seq(oid(econtent_type), explicit(0, octets(econtent))),
             tlv(0xA0, cert_der), set_of(signer))
    return seq(oid(OID_SIGNED_DATA), explicit(0, sd))


def roa_content(asn, prefixes):
    """RouteOriginAttestation (RFC 9582 §4): version 0 (DEFAULT, omitted)."""
    nets = sorted(((ipaddress.ip_network(p), m) for p, m in prefixes),
                  key=lambda x: (x[0].version, x[0].network_address.packed, x[0].prefixlen))
    fams = []
    for v in (4, 6):
        mine = [(n, m) for n, m in nets if n.version == v]
        if mine:
            addrs = [seq(prefix_bits(n), *([integer(m)] if m is not None else []))
                     for n, m in mine]
            fams.append(seq(octets(afi(mine[0][0])), seq(*addrs)))
    return seq(integer(asn), seq(*fams))


def manifest_content(number, start, end, files):
    """Manifest (RFC 9286 §4.2): version 0 omitted, SHA-256 of each file."""
    entries = [seq(ia5(name), bits(hashlib.sha256(data).digest()))
               for name, data in sorted(files.items())]
    return seq(integer(number), gentime(start), gentime(end), oid(OID_SHA256), seq(*entries))


class Serials:
    def __init__(self):
        self.n = 1

    def next(self):
        self.n += 1
        return self.n


def ee_object(kind, name, content, issuer_key, repo, serials, start, end, ips):
    """One signed object of a publication point: its EE key, certificate, CMS."""
    key = new_key()
    cert = certificate(key, issuer_key, serials.next(), start, end, ca=False, ips=ips,
                       asns=None if ips is None else False,
                       sia=[(OID_SIGNED_OBJECT, repo + name)], crl_uri=repo + _crl_name(repo),
                       issuer_uri=_issuer_uri(repo))
    return signed_object(kind, content, cert, key, start)


def _crl_name(repo):
    return "ta.crl" if repo == TA_REPO else "ca.crl"


def _issuer_uri(repo):
    return TA_URI if repo == TA_REPO else TA_REPO + "ca.cer"


def publication_point(issuer_key, repo, files, serials, start, end):
    """Adds the CRL and the manifest over every file of the point."""
    files[_crl_name(repo)] = crl(issuer_key, 1, start, end)
    mft_name = _crl_name(repo)[:-4] + ".mft"
    content = manifest_content(1, start, end, files)
    files[mft_name] = ee_object(OID_CT_MFT, mft_name, content, issuer_key, repo, serials,
                                start, end, None)
    return files


def path_of(cache, rsync_uri):
    assert rsync_uri.startswith("rsync://")
    return cache / rsync_uri[len("rsync://"):]


def generate(out, now=None, days=3650, roas=None):
    """Writes OUTDIR/lab.tal and OUTDIR/cache/ with roas (default ROAS);
    returns the TAL's path."""
    out = pathlib.Path(out)
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0,
                                                                      tzinfo=None)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=days)
    serials = Serials()
    ta_key, ca_key = new_key(), new_key()
    ta = certificate(ta_key, ta_key, 1, start, end, ca=True,
                     ips=["0.0.0.0/0", "::/0"], asns=[(0, 4294967295)],
                     sia=[(OID_CA_REPOSITORY, TA_REPO),
                          (OID_RPKI_MANIFEST, TA_REPO + "ta.mft")])
    ca = certificate(ca_key, ta_key, serials.next(), start, end, ca=True, ips=CA_IPS,
                     asns=CA_ASNS, sia=[(OID_CA_REPOSITORY, CA_REPO),
                                        (OID_RPKI_MANIFEST, CA_REPO + "ca.mft")],
                     crl_uri=TA_REPO + "ta.crl", issuer_uri=TA_URI)
    ca_files = {}
    for name, asn, prefixes in roas or ROAS:
        ca_files[name] = ee_object(OID_CT_ROA, name, roa_content(asn, prefixes), ca_key,
                                   CA_REPO, serials, start, end, [p for p, _ in prefixes])
    points = {
        TA_REPO: publication_point(ta_key, TA_REPO,
                                   {"ca.cer": ca.public_bytes(serialization.Encoding.DER)},
                                   serials, start, end),
        CA_REPO: publication_point(ca_key, CA_REPO, ca_files, serials, start, end),
    }
    cache = out / "cache"
    # rpki-client keeps a TAL's certificate as cachedir/ta/TALNAME/FILE
    ta_path = cache / "ta" / "lab" / TA_URI.rsplit("/", 1)[1]
    ta_path.parent.mkdir(parents=True, exist_ok=True)
    ta_path.write_bytes(ta.public_bytes(serialization.Encoding.DER))
    for repo, files in points.items():
        d = path_of(cache, repo)
        d.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (d / name).write_bytes(data)
    spki = ta_key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    tal = out / "lab.tal"
    b64 = base64.b64encode(spki).decode()
    tal.write_text(f"{TA_URI}\n\n" + "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
                   + "\n")
    return tal


def expected_vrps(roas=None):
    """The VRPs rpki-client must find: (ASN, prefix, maxLength)."""
    return sorted((asn, p, m if m is not None else ipaddress.ip_network(p).prefixlen)
                  for _, asn, prefixes in roas or ROAS for p, m in prefixes)


# ---- running rpki-client over it (the tests) -----------------------------

RPKI_CLIENT = shutil.which("rpki-client") or "/usr/sbin/rpki-client"


@contextlib.contextmanager
def workdir():
    """A directory for one repository and rpki-client's outputs, removed
    after. Not under pytest's tmp_path: run as root, rpki-client switches to
    the user _rpki-client, who cannot enter pytest's private base."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="meridian-rpki-"))
    try:
        os.chmod(d, 0o755)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def rpki_client(work, *flags):
    """Runs rpki-client offline (-n) over work/cache with work/lab.tal,
    writing into work/out; returns (out, its stdout and stderr)."""
    assert os.access(RPKI_CLIENT, os.X_OK), \
        "rpki-client is missing: scripts/bootstrap installs Debian's rpki-client"
    out = work / "out"
    out.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam("_rpki-client")
        for d in (work / "cache", out):
            for p in [d, *d.rglob("*")]:
                os.chown(p, user.pw_uid, user.pw_gid)
    p = subprocess.run([RPKI_CLIENT, "-n", "-s", "60", "-d", str(work / "cache"),
                        "-t", str(work / "lab.tal"), *flags, str(out)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return out, p.stdout + p.stderr


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: rpki_gen.py OUTDIR")
    print(generate(sys.argv[1]))
