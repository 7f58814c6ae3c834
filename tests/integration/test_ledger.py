"""`meridian ledger`: the stand-alone proof verifier over every
transparency-dev vector in tests/data/ (and mutations of the valid ones), and the
persistent log driven through the real binary on a temp dir."""
import base64
import hashlib
import json
import pathlib
import subprocess

import pytest

from conftest import run


def vectors(data_dir, kind):
    root = data_dir / "transparency-dev-merkle" / kind
    files = sorted(root.rglob("*.json"))
    assert files, f"no vectors under {root}"
    return files


def inclusion_args(v):
    args = ["ledger", "verify-proof", "inclusion", "--leaf-index", v["leafIdx"],
            "--tree-size", v["treeSize"], "--root", v["root"], "--leaf-hash", v["leafHash"]]
    if v.get("proof"):
        args += ["--proof", ",".join(v["proof"])]
    return args


def consistency_args(v):
    args = ["ledger", "verify-proof", "consistency", "--size1", v["size1"],
            "--size2", v["size2"], "--root1", v["root1"], "--root2", v["root2"]]
    if v.get("proof"):
        args += ["--proof", ",".join(v["proof"])]
    return args


def flip(b64, byte=0, bit=0):
    raw = bytearray(base64.b64decode(b64))
    raw[byte % len(raw)] ^= 1 << bit
    return base64.b64encode(bytes(raw)).decode()


def mutants(v, kind):
    """Every way of spoiling a valid proof that must be rejected."""
    proof = list(v.get("proof") or [])
    out = []
    for i in range(len(proof)):
        p = list(proof)
        p[i] = flip(p[i], byte=i * 5 + 3, bit=i % 8)
        out.append(("flip proof %d" % i, dict(v, proof=p)))
        out.append(("drop proof %d" % i, dict(v, proof=proof[:i] + proof[i + 1:])))
        out.append(("duplicate proof %d" % i, dict(v, proof=proof[:i + 1] + proof[i:])))
    out.append(("append node", dict(v, proof=proof + [base64.b64encode(b"\xab" * 32).decode()])))
    if kind == "inclusion":
        out.append(("flip root", dict(v, root=flip(v["root"], 7, 2))))
        out.append(("flip leaf", dict(v, leafHash=flip(v["leafHash"], 31, 7))))
        out.append(("index xor 1", dict(v, leafIdx=v["leafIdx"] ^ 1)))
        out.append(("index + 2", dict(v, leafIdx=v["leafIdx"] + 2)))
        out.append(("size * 2", dict(v, treeSize=v["treeSize"] * 2)))
        out.append(("size / 2", dict(v, treeSize=v["treeSize"] // 2)))
    else:
        out.append(("flip root1", dict(v, root1=flip(v["root1"], 1, 1))))
        out.append(("flip root2", dict(v, root2=flip(v["root2"], 30, 6))))
        out.append(("size1 + 1", dict(v, size1=v["size1"] + 1)))
        out.append(("size1 0", dict(v, size1=0)))
        if v["size1"] != v["size2"]:
            out.append(("size2 * 2", dict(v, size2=v["size2"] * 2)))
            out.append(("swapped roots", dict(v, root1=v["root2"], root2=v["root1"])))
    return out


@pytest.mark.parametrize("kind", ["inclusion", "consistency"])
def test_vectors_and_mutants(meridian_bin, data_dir, kind):
    build = inclusion_args if kind == "inclusion" else consistency_args
    valid = invalid = rejected = 0
    for path in vectors(data_dir, kind):
        v = json.loads(path.read_text())
        if v.get("proof") == [""]:
            # A lone empty hash and the empty proof are the same command line
            # (`--proof ''` is the empty proof, as usage says); the unit test
            # checks these vectors through the library.
            continue
        p = run(meridian_bin, *build(v))
        if v["wantErr"]:
            assert p.returncode == 1, f"{path}: invalid vector gave {p.returncode}: {p.stderr}"
            assert "invalid" in p.stderr
            invalid += 1
            continue
        assert p.returncode == 0, f"{path}: valid vector rejected: {p.stderr}"
        assert p.stdout.startswith("valid")
        valid += 1
        for what, m in mutants(v, kind):
            p = run(meridian_bin, *build(m))
            assert p.returncode == 1, f"{path}: mutant '{what}' gave {p.returncode}: {p.stderr}"
            rejected += 1
    assert valid >= 5 and invalid >= 80 and rejected >= 40


def test_single_leaf_tree_needs_no_proof(meridian_bin):
    leaf = base64.b64encode(b"\x11" * 32).decode()
    p = run(meridian_bin, "ledger", "verify-proof", "inclusion", "--leaf-index", 0,
            "--tree-size", 1, "--root", leaf, "--leaf-hash", leaf)
    assert p.returncode == 0, p.stderr
    p = run(meridian_bin, "ledger", "verify-proof", "inclusion", "--leaf-index", 0,
            "--tree-size", 1, "--root", leaf, "--leaf-hash", leaf, "--proof", leaf)
    assert p.returncode == 1
    assert "more than" in p.stderr


def test_usage_errors(meridian_bin):
    h = base64.b64encode(b"\x00" * 32).decode()
    cases = [
        ["ledger"],
        ["ledger", "verify-proof"],
        ["ledger", "verify-proof", "sideways"],
        ["ledger", "verify-proof", "inclusion", "--tree-size", 1, "--root", h, "--leaf-hash", h],
        ["ledger", "verify-proof", "inclusion", "--leaf-index", "-1", "--tree-size", 1,
         "--root", h, "--leaf-hash", h],
        ["ledger", "verify-proof", "inclusion", "--leaf-index", 0, "--tree-size", 1,
         "--root", "not base64!", "--leaf-hash", h],
        ["ledger", "verify-proof", "consistency", "--size1", 1, "--size2", 2, "--root1", h,
         "--root2", h, "--bogus", 1],
    ]
    for args in cases:
        p = run(meridian_bin, *args)
        assert p.returncode == 2, (args, p.stderr)
        assert "usage: meridian ledger" in p.stderr
    p = run(meridian_bin, "help", "ledger")
    assert p.returncode == 0 and "verify-proof inclusion" in p.stdout


# ---- the persistent log through the real binary ----

N_LEAVES = 40


@pytest.fixture()
def filled(tmp_path, meridian_bin):
    """A ledger of N_LEAVES leaves with a signed checkpoint, and its keys."""
    d = tmp_path / "ledger"
    key = tmp_path / "signer.key"
    p = run(meridian_bin, "ledger", "keygen", "--name", "test.example/ledger", "--out", key)
    assert p.returncode == 0, p.stderr
    vkey = p.stdout.strip()
    assert vkey.startswith("test.example/ledger+")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    for i in range(N_LEAVES):
        obj = tmp_path / "obj"
        obj.write_bytes(b"object %d" % i)
        kind = "object" if i % 5 else "hold-create"
        p = run(meridian_bin, "ledger", "append", "--dir", d, "--file", obj, "--kind", kind)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == "leaf %d" % i
    p = run(meridian_bin, "ledger", "checkpoint", "--dir", d, "--key", key)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split("\n")
    assert lines[0] == "test.example/ledger" and lines[1] == str(N_LEAVES)
    assert len(base64.b64decode(lines[2])) == 32 and lines[3].startswith("time ")
    assert lines[4] == "" and lines[5].startswith("\u2014 test.example/ledger ")
    return d, key, vkey


def leaf_offset(i):
    """Where leaf i's record starts in DIR/log (docs/ledger.md)."""
    return 45 * i + 32 * (i - bin(i).count("1"))


def test_log_verify_ok(meridian_bin, filled):
    d, _, vkey = filled
    p = run(meridian_bin, "ledger", "verify", "--dir", d, "--pubkey", vkey)
    assert p.returncode == 0, p.stderr
    assert "signature verified" in p.stdout
    assert (d / "log").stat().st_size == leaf_offset(N_LEAVES)  # 77 bytes a leaf
    # The node key's crypto text form, named by the checkpoint's origin.
    raw = base64.b64decode(vkey.split("+", 2)[2])[1:]
    p = run(meridian_bin, "ledger", "verify", "--dir", d,
            "--pubkey", "ed25519:" + base64.b64encode(raw).decode())
    assert p.returncode == 0, p.stderr
    p = run(meridian_bin, "ledger", "verify", "--dir", d,
            "--pubkey", "ed25519:" + base64.b64encode(bytes(32)).decode())
    assert p.returncode == 1


def test_log_proofs_verify_stand_alone(meridian_bin, filled):
    d, _, _ = filled
    for size in (1, 7, 16, N_LEAVES):
        for i in range(0, size, 3):
            p = run(meridian_bin, "ledger", "prove", "--dir", d, "--index", i, "--size", size)
            assert p.returncode == 0, p.stderr
            v = json.loads(p.stdout)
            assert run(meridian_bin, *inclusion_args(v)).returncode == 0
            bad = dict(v, leafIdx=(i + 1) % size) if size > 1 else dict(v, treeSize=2)
            assert run(meridian_bin, *inclusion_args(bad)).returncode == 1
        for m in range(1, size + 1, 5):
            p = run(meridian_bin, "ledger", "prove", "--dir", d, "--size1", m, "--size2", size)
            assert p.returncode == 0, p.stderr
            v = json.loads(p.stdout)
            assert run(meridian_bin, *consistency_args(v)).returncode == 0
    p = run(meridian_bin, "ledger", "prove", "--dir", d, "--index", N_LEAVES)
    assert p.returncode == 1


@pytest.mark.parametrize("leaf", [0, 13, N_LEAVES - 1])
def test_changed_leaf_is_named(meridian_bin, filled, leaf):
    d, _, vkey = filled
    log = d / "log"
    data = bytearray(log.read_bytes())
    data[leaf_offset(leaf) + 9 + 5] ^= 0x20  # a byte of the leaf's content hash
    log.write_bytes(bytes(data))
    p = run(meridian_bin, "ledger", "verify", "--dir", d, "--pubkey", vkey)
    assert p.returncode == 1
    assert "first leaf that differs: %d" % leaf in p.stderr, p.stderr


def test_torn_tail_and_truncation(meridian_bin, filled, tmp_path):
    d, key, vkey = filled
    log = d / "log"
    with open(log, "ab") as f:
        f.write(b"\x00" * 30)  # a torn, half-written record
    p = run(meridian_bin, "ledger", "verify", "--dir", d, "--pubkey", vkey)
    assert p.returncode == 0, p.stderr
    assert "ignoring" in p.stderr
    obj = tmp_path / "more"
    obj.write_bytes(b"after the crash")
    p = run(meridian_bin, "ledger", "append", "--dir", d, "--file", obj)
    assert p.returncode == 0 and p.stdout.strip() == "leaf %d" % N_LEAVES
    assert "truncated" in p.stderr
    assert log.stat().st_size == leaf_offset(N_LEAVES + 1)
    # Cutting leaves the checkpoint covers is not a torn tail.
    with open(log, "r+b") as f:
        f.truncate(leaf_offset(N_LEAVES - 4))
    p = run(meridian_bin, "ledger", "verify", "--dir", d)
    assert p.returncode == 1
    assert "first leaf that differs: %d" % (N_LEAVES - 4) in p.stderr
    p = run(meridian_bin, "ledger", "append", "--dir", d, "--file", obj)
    assert p.returncode == 1  # the writer refuses to build on a damaged log


def test_checkpoint_from_another_key_fails(meridian_bin, filled, tmp_path):
    d, _, vkey = filled
    other = tmp_path / "other.key"
    p = run(meridian_bin, "ledger", "keygen", "--name", "test.example/ledger", "--out", other)
    assert p.returncode == 0
    other_vkey = p.stdout.strip()
    assert run(meridian_bin, "ledger", "checkpoint", "--dir", d, "--key", other).returncode == 0
    p = run(meridian_bin, "ledger", "verify", "--dir", d, "--pubkey", vkey)
    assert p.returncode == 1
    assert "no signature by key" in p.stderr
    # An edited checkpoint (tree size changed) fails its signature too.
    note = (d / "checkpoint").read_text().replace("\n%d\n" % N_LEAVES, "\n%d\n" % (N_LEAVES - 1))
    (d / "checkpoint").write_text(note)
    p = run(meridian_bin, "ledger", "verify", "--dir", d, "--pubkey", other_vkey)
    assert p.returncode == 1
    assert "does not verify" in p.stderr


# ---- evidence packages ----

import io
import tarfile


@pytest.fixture()
def package(tmp_path, meridian_bin):
    """A ledger of 9 objects, a checkpoint, and a package of 3 of them."""
    d = tmp_path / "ledger"
    key = tmp_path / "node.key"
    p = run(meridian_bin, "ledger", "keygen", "--name", "node.example/ledger", "--out", key)
    vkey = p.stdout.strip()
    files = []
    for i in range(9):
        f = tmp_path / ("o%d.json" % i)
        f.write_text(json.dumps({"type": "indicator", "spec_version": "2.1",
                                 "id": "indicator--%08d-0000-4000-8000-000000000000" % i,
                                 "modified": "2026-01-01T00:00:0%d.000Z" % i}))
        assert run(meridian_bin, "ledger", "append", "--dir", d, "--file", f).returncode == 0
        files.append(f)
    assert run(meridian_bin, "ledger", "checkpoint", "--dir", d, "--key", key).returncode == 0
    pkg = tmp_path / "case.tar"
    p = run(meridian_bin, "evidence", "export", "--ledger", d, "--key", key, "--case", "CASE-7",
            "-o", pkg, files[1], files[4], files[8])
    assert p.returncode == 0, p.stderr
    return pkg, vkey, key, d, files


def members(pkg):
    with tarfile.open(pkg) as t:
        return [(m.name, t.extractfile(m).read()) for m in t.getmembers()]


def canonical_header(name, size):
    """The one ustar header a package may have (docs/ledger.md): only the
    name and the size vary."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[156:157] = b"0"
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[265:273] = b"meridian"
    h[297:305] = b"meridian"
    h[148:156] = b"        "
    h[148:156] = b"%06o\0 " % sum(h)
    return h


def rewrite(pkg, items):
    """Writes items as a canonical package (what `evidence export` writes)."""
    out = bytearray()
    for name, data in items:
        name = name.encode() if isinstance(name, str) else name
        out += canonical_header(name, len(data)) + data + b"\0" * (-len(data) % 512)
    pkg.write_bytes(bytes(out) + b"\0" * 1024)


def no_raw_controls(text):
    """True when text (bytes) has no C0/C1 control, DEL, bidi control or
    invalid UTF-8 that a terminal would act on (issue 17, item 12)."""
    bad = set(range(0x20)) - {0x0A} | {0x7F}
    if any(b in bad for b in text):
        return False
    try:
        s = text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(0x80 <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E or
                   0x2066 <= ord(c) <= 0x2069 for c in s)


def verify(meridian_bin, pkg, key):
    return run(meridian_bin, "evidence", "verify", pkg, "--pubkey", key)


def test_evidence_verifies(meridian_bin, package):
    pkg, vkey, _, _, files = package
    p = verify(meridian_bin, pkg, vkey)
    assert p.returncode == 0, p.stderr
    assert "3 objects" in p.stdout and "CASE-7" in p.stdout
    names = [n for n, _ in members(pkg)]
    assert names[:4] == ["manifest.json", "manifest.sig", "checkpoint", "pubkey"]
    got = dict(members(pkg))
    assert got["objects/000002"] == files[4].read_bytes()  # the exact bytes
    # The node key's crypto text form works too (the name comes from the package).
    raw = base64.b64decode(vkey.split("+", 2)[2])[1:]
    p = verify(meridian_bin, pkg, "ed25519:" + base64.b64encode(raw).decode())
    assert p.returncode == 0, p.stderr
    # A canonical rewrite is the same bytes, and verifies.
    good = pkg.read_bytes()
    rewrite(pkg, members(pkg))
    assert pkg.read_bytes() == good
    assert verify(meridian_bin, pkg, vkey).returncode == 0


def test_evidence_every_byte_canonical(meridian_bin, package, tmp_path):
    """Issue 17, item 11: tar metadata and the end-of-archive blocks are
    checked too, so a package whose SHA-256 differs from the one the node
    recorded never verifies; each failure names what is wrong."""
    pkg, vkey, _, _, _ = package
    good = pkg.read_bytes()
    p = verify(meridian_bin, pkg, vkey)
    digest = hashlib.sha256(good).hexdigest()
    assert ("package sha256 " + digest) in p.stdout
    p = run(meridian_bin, "evidence", "verify", pkg, "--pubkey", vkey, "--sha256", digest)
    assert p.returncode == 0 and "(as expected)" in p.stdout, p.stderr
    p = run(meridian_bin, "evidence", "verify", pkg, "--pubkey", vkey, "--sha256", "0" * 64)
    assert p.returncode == 1 and "another package" in p.stderr
    bad = tmp_path / "bad.tar"
    # Re-packed by Python's tarfile (its own uname, mtime, 10 KiB records).
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members(pkg):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data))
    bad.write_bytes(buf.getvalue())
    p = verify(meridian_bin, bad, vkey)
    assert p.returncode == 1 and "mtime" in p.stderr and "canonical" in p.stderr, p.stderr
    # Each header field of the second member, with its checksum made good.
    second = 512 + (len(members(pkg)[0][1]) + 511) // 512 * 512
    fields = {"mode": (100, b"0000600"), "uid": (108, b"0001750"), "gid": (116, b"0001750"),
              "mtime": (136, b"14723435000"), "uname": (265, b"root\0\0\0\0"),
              "gname": (297, b"wheel\0\0\0"), "devmajor": (329, b"0000000"),
              "devminor": (337, b"0000000"), "size": (124, b" ")}
    for field, (off, val) in fields.items():
        data = bytearray(good)
        h = data[second:second + 512]
        h[off:off + len(val)] = val
        h[148:156] = b"        "
        h[148:156] = b"%06o\0 " % sum(h)
        data[second:second + 512] = h
        bad.write_bytes(bytes(data))
        p = verify(meridian_bin, bad, vkey)
        assert p.returncode == 1, field
        assert ("manifest.sig: tar header field %s differs" % field) in p.stderr, p.stderr
    # End-of-archive blocks: one, three, trailing bytes.
    for data, what in ((good[:-512], "exactly two"), (good + b"\0" * 512, "exactly two"),
                       (good + b"junk", "after the two end-of-archive blocks")):
        bad.write_bytes(data)
        p = verify(meridian_bin, bad, vkey)
        assert p.returncode == 1 and what in p.stderr, p.stderr
    # Members swapped (same bytes, other order).
    items = members(pkg)
    items[0], items[1] = items[1], items[0]
    rewrite(bad, items)
    p = verify(meridian_bin, bad, vkey)
    assert p.returncode == 1 and "the canonical package has manifest.json there" in p.stderr
    # The pubkey member in another spelling of the same key.
    items = dict(members(pkg))
    items["pubkey"] = items["pubkey"].rstrip(b"\n") + b"\r\n"
    rewrite(bad, list(items.items()))
    p = verify(meridian_bin, bad, vkey)
    assert p.returncode == 1 and "pubkey" in p.stderr, p.stderr
    # A second signature line (by another key) on the manifest's note.
    items = dict(members(pkg))
    items["manifest.sig"] += "\u2014 other.example/key AAAAAAAA\n".encode()
    rewrite(bad, list(items.items()))
    p = verify(meridian_bin, bad, vkey)
    assert p.returncode == 1 and "manifest.sig: carries 2 signature lines" in p.stderr, p.stderr


def test_evidence_hostile_names_escaped(meridian_bin, package, tmp_path):
    """Issue 17, item 12: a member named with terminal escapes, bidi
    overrides and invalid UTF-8 is reported, but never printed raw."""
    pkg, vkey, _, _, _ = package
    items = members(pkg)
    hostile = b"\x1b]0;pwned\x07\x1b[2J\r\xe2\x80\xaeexe.txt\xff\xc2\x9b"
    items[2] = (hostile, items[2][1])
    bad = tmp_path / "bad.tar"
    rewrite(bad, items)
    p = subprocess.run([meridian_bin, "evidence", "verify", bad, "--pubkey", vkey],
                       capture_output=True, timeout=60)
    assert p.returncode == 1
    assert no_raw_controls(p.stdout) and no_raw_controls(p.stderr), p.stderr
    assert b"\\x1B]0;pwned\\x07\\x1B[2J\\x0D\\u{202E}exe.txt\\xFF\\u{9B}" in p.stderr, p.stderr


def test_evidence_single_byte_changed(meridian_bin, package):
    pkg, vkey, _, _, _ = package
    with tarfile.open(pkg) as t:
        m = t.getmember("objects/000002")
    data = bytearray(pkg.read_bytes())
    data[m.offset_data + 10] ^= 0x01
    pkg.write_bytes(bytes(data))
    p = verify(meridian_bin, pkg, vkey)
    assert p.returncode == 1
    assert "objects/000002 (indicator--00000004" in p.stderr and "bytes altered" in p.stderr


def test_evidence_object_dropped(meridian_bin, package):
    pkg, vkey, _, _, _ = package
    items = [(n, d) for n, d in members(pkg) if n != "objects/000003"]
    rewrite(pkg, items)
    p = verify(meridian_bin, pkg, vkey)
    assert p.returncode == 1
    assert "objects/000003" in p.stderr and "missing" in p.stderr
    # Dropping it from the manifest too breaks the node's signature on it.
    items = dict(items)
    man = json.loads(items["manifest.json"])
    man["objects"] = man["objects"][:2]
    items["manifest.json"] = json.dumps(man, indent=2).encode()
    rewrite(pkg, list(items.items()))
    p = verify(meridian_bin, pkg, vkey)
    assert p.returncode == 1
    assert "manifest.json: altered" in p.stderr


def test_evidence_reordered(meridian_bin, package):
    pkg, vkey, _, _, _ = package
    items = dict(members(pkg))
    a, b = items["objects/000001"], items["objects/000002"]
    items["objects/000001"], items["objects/000002"] = b, a
    rewrite(pkg, list(items.items()))
    p = verify(meridian_bin, pkg, vkey)
    assert p.returncode == 1
    assert "objects/000001" in p.stderr and "bytes altered" in p.stderr


def test_evidence_leaf_index_changed(meridian_bin, package):
    """A manifest edited to claim another leaf fails its signature; a node
    that signed a wrong leaf index would fail the inclusion proof."""
    pkg, vkey, _, _, _ = package
    items = dict(members(pkg))
    man = json.loads(items["manifest.json"])
    man["objects"][0]["leaf"]["index"] = 2
    items["manifest.json"] = json.dumps(man, indent=2).encode()
    rewrite(pkg, list(items.items()))
    p = verify(meridian_bin, pkg, vkey)
    assert p.returncode == 1 and "manifest.json: altered" in p.stderr


def test_evidence_resigned_checkpoint(meridian_bin, package, tmp_path):
    pkg, vkey, _, d, files = package
    other = tmp_path / "other.key"
    assert run(meridian_bin, "ledger", "keygen", "--name", "node.example/ledger",
               "--out", other).returncode == 0
    assert run(meridian_bin, "ledger", "checkpoint", "--dir", d, "--key", other).returncode == 0
    forged = tmp_path / "forged.tar"
    assert run(meridian_bin, "evidence", "export", "--ledger", d, "--key", other, "--case", "X",
               "-o", forged, files[1]).returncode == 0
    p = verify(meridian_bin, forged, vkey)
    assert p.returncode == 1
    assert "checkpoint" in p.stderr and "no signature by key node.example/ledger" in p.stderr
    # Swapping the forged checkpoint into the genuine package fails the same way.
    items = dict(members(pkg))
    items["checkpoint"] = dict(members(forged))["checkpoint"]
    rewrite(pkg, list(items.items()))
    p = verify(meridian_bin, pkg, vkey)
    assert p.returncode == 1 and "checkpoint" in p.stderr


def test_evidence_hostile_packages(meridian_bin, package, tmp_path):
    pkg, vkey, _, _, _ = package
    good = pkg.read_bytes()
    cases = {
        "truncated": good[:1000],
        "empty": b"",
        "garbage": b"\x00" * 100 + b"x" * 5000,
        "extra member": None,
    }
    items = members(pkg) + [("objects/000099", b"smuggled")]
    for name, data in cases.items():
        bad = tmp_path / "bad.tar"
        if data is None:
            rewrite(bad, items)
        else:
            bad.write_bytes(data)
        p = verify(meridian_bin, bad, vkey)
        assert p.returncode == 1, (name, p.stderr)
        assert "invalid" in p.stderr, (name, p.stderr)
    p = run(meridian_bin, "evidence", "verify", pkg)
    assert p.returncode == 2
    p = verify(meridian_bin, tmp_path / "nope.tar", vkey)
    assert p.returncode == 2
