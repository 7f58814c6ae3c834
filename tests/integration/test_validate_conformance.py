"""`meridian validate` against the conformance cases in conformance/: one
small document per case, named <expected>-<what>.json (expected is "valid" or
"invalid"), whose MUST-level verdicts were derived from the OASIS reference
suites and checked against the STIX 2.1 text (see conformance/make_cases.py,
which writes them). Warnings never make a case invalid; --strict is not used.
"""
import json
import pathlib

import pytest

from conftest import run

CASES = pathlib.Path(__file__).resolve().parent / "conformance"
FILES = sorted(p.name for p in CASES.glob("*.json"))


@pytest.fixture(scope="module")
def verdicts(meridian_bin):
    """Validates every case in one process; file name -> result object."""
    p = run(meridian_bin, "validate", "--json", *[CASES / f for f in FILES], timeout=300)
    assert p.returncode in (0, 1), p.stderr
    out = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        out[pathlib.Path(r["file"]).name] = r
    return out


def test_case_names():
    assert len(FILES) >= 200
    for f in FILES:
        assert f.startswith(("valid-", "invalid-")), f


@pytest.mark.parametrize("name", FILES)
def test_case(verdicts, name):
    r = verdicts[name]
    assert "error" not in r, r
    want = name.startswith("valid-")
    errs = [f"{x['path']}: {x['rule']}: {x['message']}" for x in r["findings"]
            if x["severity"] == "error"]
    assert r["valid"] == want, errs or "no error reported"
    assert (r["errors"] == 0) == want


def test_agreement_summary(verdicts):
    """The agreement rate, printed for the record (pytest -s shows it)."""
    agree = sum(1 for f in FILES if verdicts[f]["valid"] == f.startswith("valid-"))
    print(f"\nconformance: {agree}/{len(FILES)} agree ({100.0 * agree / len(FILES):.1f}%)")
    assert agree == len(FILES)
