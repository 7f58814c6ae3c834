"""`meridian validate` over the STIX sample data in tests/data and over mutated
copies of it: verdicts, exit codes, the --json shape and stdin.

The expected verdict of every sample file was decided by reading the file
against STIX 2.1 (and the TLP 2.0 extension), not by running the validator:
the OASIS example bundles and the canonical TLP objects are valid; the
upstream TLP 2.0 example that lacks "type": "bundle" and has the date
"2022-101-27" is not; provenance.json is a list of provenance records, not
STIX objects.
"""
import copy
import json
import pathlib

import pytest

from conftest import data_file, run

VALID = [
    "stix-bundles/cti-documentation/apt1.json",
    "stix-bundles/cti-documentation/defining-campaigns-threat-actors-intrusion-sets.json",
    "stix-bundles/cti-documentation/identifying-a-threat-actor-profile.json",
    "stix-bundles/cti-documentation/indicator-for-malicious-url.json",
    "stix-bundles/cti-documentation/malware-indicator-for-file-hash.json",
    "stix-bundles/cti-documentation/poisonivy.json",
    "stix-bundles/cti-documentation/sighting-of-an-indicator.json",
    "stix-bundles/cti-documentation/sighting-of-observed-data.json",
    "stix-bundles/cti-documentation/threat-actor-leveraging-attack-patterns-and-malware.json",
    "stix-bundles/cti-documentation/using-granular-markings.json",
    "stix-bundles/cti-documentation/using-marking-definitions.json",
    "stix-bundles/json-schemas-examples/indicator-for-c2-ip-address.json",
    "stix-bundles/json-schemas-examples/indicator-to-campaign-relationship.json",
    "stix-bundles/json-schemas-examples/indicators-for-C2-with-COA.json",
    "stix-bundles/json-schemas-examples/infrastructure.json",
    "stix-bundles/json-schemas-examples/interop-objectmarking-test.json",
    "stix-bundles/json-schemas-examples/malicious-email-indicator-with-attachment.json",
    "stix-bundles/json-schemas-examples/threat-reports/apt1.json",
    "stix-bundles/json-schemas-examples/threat-reports/poisonivy.json",
    "stix-markings/tlp1/tlp-amber.json",
    "stix-markings/tlp1/tlp-green.json",
    "stix-markings/tlp1/tlp-red.json",
    "stix-markings/tlp1/tlp-white.json",
    "stix-markings/tlp2/extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d.json",
    "stix-markings/tlp2/tlp-amber-strict.json",
    "stix-markings/tlp2/tlp-amber.json",
    "stix-markings/tlp2/tlp-clear.json",
    "stix-markings/tlp2/tlp-green.json",
    "stix-markings/tlp2/tlp-red.json",
]

# file -> rule ids that must be among the errors
INVALID = {
    "stix-markings/tlp2/upstream-example-using-tlp2.0-green.MALFORMED.json":
        {"required-property", "timestamp-format"},
    "stix-markings/tlp2/provenance.json": {"required-property"},
}


def test_every_sample_file_has_a_verdict(data_dir):
    """A new file in the sample folders must get a verdict here."""
    listed = set(VALID) | set(INVALID)
    for sub in ("stix-bundles", "stix-markings"):
        for p in (data_dir / sub).rglob("*.json"):
            rel = str(p.relative_to(data_dir))
            assert rel in listed, f"{rel} has no expected verdict in test_validate.py"


@pytest.mark.parametrize("rel", VALID)
def test_valid_sample(meridian_bin, data_dir, rel):
    p = run(meridian_bin, "validate", data_file(rel))
    assert p.returncode == 0, p.stdout + p.stderr
    assert ": valid (" in p.stdout
    assert "error " not in p.stdout


@pytest.mark.parametrize("rel", sorted(INVALID))
def test_invalid_sample(meridian_bin, data_dir, rel):
    p = run(meridian_bin, "validate", "--json", data_file(rel))
    assert p.returncode == 1, p.stdout + p.stderr
    res = json.loads(p.stdout)
    assert res["valid"] is False
    rules = {f["rule"] for f in res["findings"] if f["severity"] == "error"}
    assert INVALID[rel] <= rules, rules


def test_malformed_tlp2_example_paths(meridian_bin, data_dir):
    rel = "stix-markings/tlp2/upstream-example-using-tlp2.0-green.MALFORMED.json"
    p = run(meridian_bin, "validate", data_file(rel))
    assert p.returncode == 1
    assert "$.objects[2].created: timestamp-format (STIX 2.1 §2.16)" in p.stdout
    assert "$: required-property (STIX 2.1 §8)" in p.stdout


def load(data_dir, rel):
    return json.loads(data_file(rel).read_text())


def first(bundle, type_):
    return next(o for o in bundle["objects"] if o["type"] == type_)


# Mutations of a valid bundle, each breaking one MUST rule: (name, mutate, rule)
def _m_created(b):
    first(b, "indicator")["created"] = "2016-13-01T00:00:00.000Z"


def _m_prefix(b):
    first(b, "indicator")["id"] = first(b, "indicator")["id"].replace("indicator--", "malware--")


def _m_modified(b):
    first(b, "indicator")["modified"] = "2000-01-01T00:00:00.000Z"


def _m_valid_until(b):
    i = first(b, "indicator")
    i["valid_until"] = i["valid_from"]


def _m_created_by(b):
    i = first(b, "indicator")
    i["created_by_ref"] = i["id"]


def _m_empty(b):
    first(b, "indicator")["indicator_types"] = []


def _m_tlp(b):
    b["objects"].append({"type": "marking-definition", "spec_version": "2.1",
                         "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
                         "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
                         "name": "TLP:GREEN", "definition": {"tlp": "amber"}})


def _m_selector(b):
    first(b, "indicator")["granular_markings"] = [
        {"selectors": ["no_such_property"],
         "marking_ref": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"}]


def _m_pattern(b):
    first(b, "indicator")["pattern"] = "[file:name = 'x'"


def _m_custom_name(b):
    first(b, "indicator")["X-Bad-Name"] = 1


def _m_rel_target(b):
    first(b, "relationship")["target_ref"] = \
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"


def _m_version(b):
    dup = copy.deepcopy(first(b, "indicator"))
    dup["name"] = "changed without a new modified"
    b["objects"].append(dup)


MUTATIONS = [
    ("bad created", _m_created, "timestamp-format"),
    ("id prefix", _m_prefix, "id-type-mismatch"),
    ("modified before created", _m_modified, "modified-before-created"),
    ("valid_until == valid_from", _m_valid_until, "timestamp-order"),
    ("created_by_ref not identity", _m_created_by, "ref-type"),
    ("empty list", _m_empty, "empty-list"),
    ("non-canonical TLP", _m_tlp, "tlp-canonical"),
    ("unresolved selector", _m_selector, "selector-unresolved"),
    ("bad pattern", _m_pattern, "pattern-syntax"),
    ("custom property name", _m_custom_name, "property-name"),
    ("relationship to a marking", _m_rel_target, "ref-type"),
    ("same version, other content", _m_version, "version-conflict"),
]


@pytest.mark.parametrize("name,mutate,rule", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_mutated_sample_is_invalid(meridian_bin, data_dir, tmp_path, name, mutate, rule):
    b = load(data_dir, "stix-bundles/cti-documentation/indicator-for-malicious-url.json")
    mutate(b)
    f = tmp_path / "b.json"
    f.write_text(json.dumps(b))
    p = run(meridian_bin, "validate", "--json", f)
    assert p.returncode == 1, p.stdout + p.stderr
    res = json.loads(p.stdout)
    assert rule in {x["rule"] for x in res["findings"] if x["severity"] == "error"}, res


def test_json_shape(meridian_bin, data_dir):
    d = data_dir
    p = run(meridian_bin, "validate", "--json", d / VALID[0],
            d / "stix-markings/tlp2/upstream-example-using-tlp2.0-green.MALFORMED.json")
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    assert len(lines) == 2  # one JSON result per file
    a, b = (json.loads(x) for x in lines)
    for r in (a, b):
        assert set(r) >= {"file", "valid", "kind", "objects", "errors", "warnings",
                          "truncated", "findings"}
    assert a["valid"] is True and a["kind"] == "bundle" and a["objects"] == 76
    assert a["errors"] == 0
    assert b["valid"] is False and b["errors"] >= 2
    f = b["findings"][0]
    assert set(f) == {"severity", "rule", "section", "path", "message", "object"}
    assert f["path"].startswith("$")


def test_stdin(meridian_bin, data_dir):
    text = (data_dir / VALID[3]).read_text()
    p = run(meridian_bin, "validate", "-", input=text)
    assert p.returncode == 0, p.stdout
    assert p.stdout.startswith("-: valid (bundle")
    bad = json.loads(text)
    bad["objects"][0]["spec_version"] = "2.0"
    p = run(meridian_bin, "validate", "--json", "-", input=json.dumps(bad))
    assert p.returncode == 1
    assert json.loads(p.stdout)["findings"][0]["rule"] == "spec-version"


def test_not_json_is_invalid_not_an_io_error(meridian_bin, tmp_path):
    f = tmp_path / "x.json"
    f.write_text('{"type": "bundle", "type": "bundle"}')  # duplicate member (I-JSON)
    p = run(meridian_bin, "validate", f)
    assert p.returncode == 1
    assert "not JSON" in p.stdout
    p = run(meridian_bin, "validate", "--json", f)
    assert json.loads(p.stdout)["findings"][0]["rule"] == "json-syntax"


def test_exit_codes(meridian_bin, data_dir, tmp_path):
    good = data_dir / VALID[0]
    assert run(meridian_bin, "validate").returncode == 2
    assert run(meridian_bin, "validate", "--bogus", good).returncode == 2
    p = run(meridian_bin, "validate", tmp_path / "missing.json")
    assert p.returncode == 2
    assert "missing.json" in p.stderr
    # an unreadable file outranks an invalid one
    bad = data_dir / "stix-markings/tlp2/provenance.json"
    assert run(meridian_bin, "validate", good, bad).returncode == 1
    assert run(meridian_bin, "validate", good, bad, tmp_path / "missing.json").returncode == 2
    assert run(meridian_bin, "validate", good, good).returncode == 0


def test_strict_turns_warnings_into_errors(meridian_bin, data_dir):
    f = data_dir / "stix-bundles/json-schemas-examples/infrastructure.json"
    p = run(meridian_bin, "validate", f)
    assert p.returncode == 0 and "warning" in p.stdout  # non-deterministic SCO ids
    p = run(meridian_bin, "validate", "--strict", f)
    assert p.returncode == 1
    assert "error   $.objects[4].id: sco-id-deterministic" in p.stdout


def test_help(meridian_bin):
    p = run(meridian_bin, "help", "validate")
    assert p.returncode == 0
    assert "usage: meridian validate [--strict] [--json]" in p.stdout


def _many(n):
    """A bundle of n indicators spread over several batches of the threaded
    validator (4,096 objects each), with findings of every kind in all of
    them: bad objects, objects that are not JSON (at known byte offsets),
    and rules across objects whose two ends sit in different batches."""
    ind = {"type": "indicator", "spec_version": "2.1", "created": "2026-01-01T00:00:00.000Z",
           "modified": "2026-01-01T00:00:00.000Z", "pattern_type": "stix",
           "valid_from": "2026-01-01T00:00:00.000Z"}
    parts = []
    for i in range(n):
        o = dict(ind, id=f"indicator--00000000-0000-4000-8000-{i:012d}",
                 pattern=f"[ipv4-addr:value = '198.51.100.{i % 250 + 1}']")
        if i % 997 == 5:
            o["created"] = "2026-01-01T00:00:00Z"  # timestamp-precision... or format
            del o["pattern_type"]
        if i % 1499 == 7:
            parts.append('{"type": "indicator", "id": }')  # not JSON
            continue
        if i % 2003 == 11:  # a second version, with other content, of an object far before
            o["id"] = f"indicator--00000000-0000-4000-8000-{i - 4100:012d}" if i > 4100 else o["id"]
            o["name"] = "changed"
        if i % 3001 == 13:  # the UUID of an earlier indicator on a malware
            o = {"type": "malware", "spec_version": "2.1", "is_family": False,
                 "id": f"malware--00000000-0000-4000-8000-{i - 5000 if i > 5000 else i:012d}",
                 "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z"}
        parts.append(json.dumps(o))
    return '{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", ' \
        '"objects": [' + ",\n".join(parts) + "]}"


@pytest.mark.parametrize("fmt", [[], ["--json"], ["--strict", "--json"]])
def test_threads_give_the_same_findings_in_the_same_order(meridian_bin, tmp_path, fmt):
    """--threads N checks objects on N threads: the findings (messages,
    paths, byte offsets of objects that are not JSON, the rules across
    objects in different batches), their order, the counts and the exit
    code are those of one thread."""
    f = tmp_path / "many.json"
    f.write_text(_many(20000))
    one = run(meridian_bin, "validate", "--threads", "1", *fmt, f, timeout=300)
    assert one.returncode == 1, one.stdout[:2000] + one.stderr
    text = f.read_text()
    off = text.index('{"type": "indicator", "id": }')
    assert f"not JSON (the object at byte {off})" in one.stdout
    for rule in ("json-syntax", "required-property", "version-conflict", "uuid-reused"):
        assert rule in one.stdout, rule
    for n in ("2", "3", "4"):
        many = run(meridian_bin, "validate", "--threads", n, *fmt, f, timeout=300)
        assert many.returncode == one.returncode
        assert many.stdout == one.stdout, n


def test_threads_keep_the_first_findings_past_the_limit(meridian_bin, tmp_path):
    """More findings than the report keeps (1,000), made on several threads:
    the same first 1,000 are kept, the counts stay exact."""
    objs = [{"type": "indicator", "spec_version": "2.0",
             "id": f"indicator--00000000-0000-4000-8000-{i:012d}"} for i in range(9000)]
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(objs))
    one = run(meridian_bin, "validate", "--json", "--threads", "1", f, timeout=300)
    four = run(meridian_bin, "validate", "--json", "--threads", "4", f, timeout=300)
    a, b = json.loads(one.stdout), json.loads(four.stdout)
    assert a["truncated"] is True and len(a["findings"]) == 1000
    assert a["errors"] > 9000 * 3
    assert a == b


def test_threads_option_is_checked(meridian_bin, data_dir):
    good = data_dir / VALID[0]
    for bad in ("0", "5", "x", "-1", ""):
        p = run(meridian_bin, "validate", "--threads", bad, good)
        assert p.returncode == 2, bad
        assert "--threads" in p.stderr
    assert run(meridian_bin, "validate", "--threads", "2", good).returncode == 0
