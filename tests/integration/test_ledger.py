"""`meridian ledger`: the stand-alone proof verifier over every
transparency-dev vector in shared/ (and mutations of the valid ones), and the
persistent log driven through the real binary on a temp dir."""
import base64
import json
import pathlib

import pytest

from conftest import run


def vectors(shared_dir, kind):
    root = shared_dir / "testdata" / "transparency-dev-merkle" / kind
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
def test_vectors_and_mutants(meridian_bin, shared_dir, kind):
    build = inclusion_args if kind == "inclusion" else consistency_args
    valid = invalid = rejected = 0
    for path in vectors(shared_dir, kind):
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
