"""`meridian pattern check|print|eval`: exit codes, messages and evaluation
verdicts through the real binary (STIX 2.1 §9)."""
import json

import pytest

from conftest import run


def od(oid, first, objects, number=1, last=None):
    """A 2.1 observed-data object plus its SCOs (ids are made unique)."""
    refs = []
    scos = []
    for i, o in enumerate(objects):
        o = dict(o)
        o.setdefault("id", "%s--%08d-0000-4000-8000-%012d" % (o["type"], oid, i))
        refs.append(o["id"])
        scos.append(o)
    return [{
        "type": "observed-data", "spec_version": "2.1",
        "id": "observed-data--%08d-0000-4000-8000-000000000000" % oid,
        "created": "2020-01-01T00:00:00Z", "modified": "2020-01-01T00:00:00Z",
        "first_observed": first, "last_observed": last or first,
        "number_observed": number, "object_refs": refs,
    }] + scos


def bundle(*groups):
    objs = []
    for g in groups:
        objs.extend(g)
    return {"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000001",
            "objects": objs}


BASIC = bundle(od(1, "2014-04-19T06:51:26Z", [{
    "type": "test", "int": 5, "float": 12.658, "float_int": 12.0, "bool": True,
    "string": "hello", "ip": "11.22.33.44", "cidr": "11.22.33.44/20", "nothing": None,
    "list": [1, 2, 3], "hashes": {"SHA-256": "AB" * 32}, "has-hyphen": 7,
    "name_hex": "616c696365", "name_bin": "YWxpY2U=", "ts": "2010-05-21T13:21:43.25Z",
    "bad_ts": "2010-05-21 13:21:43",
}]))

PEOPLE = bundle(
    od(1, "2004-10-11T21:44:58Z", [{"type": "person", "name": "alice", "age": 10}]),
    od(2, "2004-10-11T21:45:03Z", [{"type": "person", "name": "bob", "age": 17}]),
    od(3, "2004-10-11T21:45:08Z", [{"type": "person", "name": "carol", "age": 22}]),
)

COUNTED = bundle(
    od(1, "2004-10-11T21:44:58Z", [{"type": "person", "name": "alice", "age": 10}], number=2),
    od(2, "2004-10-11T21:45:01Z", [{"type": "person", "name": "bob", "age": 17}], number=3),
)

REFS = bundle(od(1, "2020-06-26T13:53:04Z", [
    {"type": "network-traffic", "id": "network-traffic--11111111-1111-4111-8111-111111111111",
     "src_ref": "ipv4-addr--22222222-2222-4222-8222-222222222222",
     "dst_ref": "ipv4-addr--33333333-3333-4333-8333-333333333333",
     "dst_port": 443, "protocols": ["tcp", "tls"]},
    {"type": "ipv4-addr", "id": "ipv4-addr--22222222-2222-4222-8222-222222222222",
     "value": "10.1.2.3"},
    {"type": "ipv4-addr", "id": "ipv4-addr--33333333-3333-4333-8333-333333333333",
     "value": "203.0.113.33", "resolves_to_refs": []},
    {"type": "email-message", "id": "email-message--44444444-4444-4444-8444-444444444444",
     "is_multipart": True,
     "to_refs": ["email-addr--55555555-5555-4555-8555-555555555555",
                 "email-addr--66666666-6666-4666-8666-666666666666"]},
    {"type": "email-addr", "id": "email-addr--55555555-5555-4555-8555-555555555555",
     "value": "a@example.com"},
    {"type": "email-addr", "id": "email-addr--66666666-6666-4666-8666-666666666666",
     "value": "b@evil.example"},
]))

V20 = [{
    "type": "observed-data", "id": "observed-data--00000000-0000-4000-8000-000000000009",
    "first_observed": "2005-01-21T11:17:41Z", "last_observed": "2005-01-21T11:22:41Z",
    "number_observed": 1,
    "objects": {
        "0": {"type": "file", "name": "a.exe", "parent_directory_ref": "1",
              "hashes": {"MD5": "22A0FB8F3879FB569F8A3FF65850A82E"}},
        "1": {"type": "directory", "path": "C:\\Windows"},
    },
}]

NFC = bundle(od(1, "2011-08-08T20:02:48Z", [{
    "type": "test",
    # three spellings of d with dot below and dot above
    "ddots": {"nfc": "\u1e0d\u0307", "nfd": "d\u0323\u0307", "alt": "\u1e0b\u0323"},
}]))

CASES = [
    # numbers and mixed types (incomparable: only != holds)
    (BASIC, "[test:int = 5]", True),
    (BASIC, "[test:int NOT != 5]", True),
    (BASIC, "[test:int > 4.9]", True),
    (BASIC, "[test:int < 5.1]", True),
    (BASIC, "[test:int != 'world']", True),
    (BASIC, "[test:int = 'world']", False),
    (BASIC, "[test:int = true]", False),
    (BASIC, "[test:int NOT = true]", True),
    (BASIC, "[test:int > h'010203']", False),
    (BASIC, "[test:int IN (-4, 5, 6.6)]", True),
    (BASIC, "[test:int NOT IN ('a', 'b')]", True),
    (BASIC, "[test:int MATCHES 'l+']", False),
    (BASIC, "[test:int NOT LIKE 'he%']", True),
    (BASIC, "[test:float = 12.658]", True),
    (BASIC, "[test:float_int IN (11, 12, 13)]", True),
    (BASIC, "[test:bool = true]", True),
    (BASIC, "[test:bool = 1]", False),
    # strings
    (BASIC, "[test:string = 'hello']", True),
    (BASIC, "[test:string > 'alice' AND test:string < 'zelda']", True),
    (BASIC, "[test:string LIKE 'he__o']", True),
    (BASIC, "[test:string LIKE 'h%x']", False),
    (BASIC, "[test:string MATCHES '.lo$']", True),
    (BASIC, "[test:string NOT MATCHES '^x']", True),
    (BASIC, "[test:string IN ()]", False),
    (BASIC, "[test:string NOT IN ()]", True),
    (BASIC, "[test:nothing != 'alice']", True),
    (BASIC, "[test:nothing = 'alice']", False),
    (BASIC, "[test:missing != 'alice']", False),
    (BASIC, "[EXISTS test:string]", True),
    (BASIC, "[EXISTS test:missing]", False),
    # addresses: compared as addresses, not strings
    (BASIC, "[test:ip ISSUBSET '11.22.41.123/20']", True),
    (BASIC, "[test:ip ISSUBSET '11.22.123.41/20']", False),
    (BASIC, "[test:cidr ISSUPERSET '11.22.41.123']", True),
    (BASIC, "[test:cidr ISSUPERSET '11.22.33.44/13']", False),
    (BASIC, "[test:int NOT ISSUBSET '11.22.33.44']", True),
    (BASIC, "[test:ip = '11.22.0.0/16']", True),
    # lists, quoting, hashes (case-insensitive values)
    (BASIC, "[test:list[*] = 3]", True),
    (BASIC, "[test:list[0] = 3]", False),
    (BASIC, "[test:list[-1] = 3]", True),
    (BASIC, "[test:'has-hyphen' = 7]", True),
    (BASIC, "[test:hashes.'SHA-256' = '" + "ab" * 32 + "']", True),
    # binary data
    (BASIC, "[test:name_hex = 'alice']", True),
    (BASIC, "[test:name_bin = h'616c696365']", True),
    (BASIC, "[test:name_bin LIKE '%lic%']", True),
    (BASIC, "[test:name_hex MATCHES '^ali']", True),
    # timestamps
    (BASIC, "[test:ts = t'2010-05-21T13:21:43.250Z']", True),
    (BASIC, "[test:ts > t'2010-05-21T13:21:43Z']", True),
    # observation operators
    (PEOPLE, "[person:name = 'alice'] AND [person:age > 20]", True),
    (PEOPLE, "[person:name = 'alice'] AND [person:age = 10]", False),
    (PEOPLE, "[person:name = 'alice'] FOLLOWEDBY [person:name = 'carol']", True),
    (PEOPLE, "[person:name = 'carol'] FOLLOWEDBY [person:name = 'alice']", False),
    (PEOPLE, "[person:age > 20] OR [person:name > 'zelda'] FOLLOWEDBY [person:age < 0]", False),
    (PEOPLE, "[person:name = 'alice' AND person:age = 17]", False),
    (PEOPLE, "[(person:name = 'x' OR person:name = 'bob') AND person:age > 10]", True),
    # qualifiers
    (PEOPLE, "([person:name = 'alice'] AND [person:name = 'carol']) WITHIN 10 SECONDS", True),
    (PEOPLE, "([person:name = 'alice'] AND [person:name = 'carol']) WITHIN 9.5 SECONDS", False),
    (PEOPLE, "[person:name = 'bob'] START t'2004-10-11T21:45:03Z' STOP t'2004-10-11T21:45:04Z'",
     True),
    (PEOPLE, "[person:name = 'bob'] START t'2004-10-11T21:45:04Z' STOP t'2004-10-11T21:45:09Z'",
     False),
    (PEOPLE, "[person:name = 'bob'] START t'2004-10-11T21:45:09Z' STOP t'2004-10-11T21:45:04Z'",
     False),
    (PEOPLE, "[person:age > 0] REPEATS 3 TIMES", True),
    (PEOPLE, "[person:age > 0] REPEATS 4 TIMES", False),
    (COUNTED, "[person:age < 20] REPEATS 5 TIMES", True),
    (COUNTED, "[person:age < 20] REPEATS 6 TIMES", False),
    (COUNTED, "[person:age < 20] REPEATS 2 TIMES REPEATS 2 TIMES", True),
    (COUNTED, "[person:name = 'alice'] REPEATS 2 TIMES AND [person:name = 'alice']", False),
    # references
    (REFS, "[network-traffic:dst_ref.value = '203.0.113.33']", True),
    (REFS, "[network-traffic:dst_ref.value ISSUBSET '203.0.113.0/24' AND "
           "network-traffic:src_ref.value ISSUBSET '10.0.0.0/8']", True),
    (REFS, "[network-traffic:protocols[*] = 'tls' AND network-traffic:dst_port = 443]", True),
    (REFS, "[email-message:to_refs[*].value LIKE '%@evil.example']", True),
    (REFS, "[email-message:to_refs[0].value LIKE '%@evil.example']", False),
    # LIKE and MATCHES compare NFC-normalised text, = compares code points
    (NFC, "[test:ddots.nfd LIKE '\u1e0b\u0323']", True),
    (NFC, "[test:ddots.alt MATCHES '^d\u0323\u0307$']", True),
    (NFC, "[test:ddots.nfc = 'd\u0323\u0307']", False),
    (NFC, "[test:ddots.nfc = '\u1e0d\u0307']", True),
    # 2.0-style objects dictionary
    (V20, "[file:parent_directory_ref.path = 'C:\\\\Windows']", True),
    (V20, "[file:hashes.MD5 = '22a0fb8f3879fb569f8a3ff65850a82e']", True),
]


@pytest.mark.parametrize("data,pattern,expected", CASES)
def test_eval(meridian_bin, tmp_path, data, pattern, expected):
    f = tmp_path / "data.json"
    f.write_text(json.dumps(data))
    p = run(meridian_bin, "pattern", "eval", pattern, f)
    assert p.returncode == (0 if expected else 1), (pattern, p.stdout, p.stderr)
    assert p.stdout.strip() == ("match" if expected else "no match")


VALID = [
    "[file:size = 1280]",
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND "
    "email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
    "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY "
    "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
    "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = "
    "'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
    "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
    "[x_whatever:detected == t'2018-03-22T12:11:14.1Z']",
    "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
    "( [(network-traffic:dst_port IN(443,6443,8443) AND network-traffic:src_packets != 0) ])",
    "([a:b = 1] REPEATS 2 TIMES) REPEATS 2 TIMES",
    "[a:b = 1] /* comment */ AND // line comment\n [c:d = 2]",
    "[file:name NOT LIKE 'x%' AND EXISTS file:size]",
]

INVALID = [
    ("file:size = 1280", "offset 0"),
    ("[file:size = ]", "offset 13"),
    ("[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]", "offset 19"),
    ("[file.size = 1280]", "offset 5"),
    ("[file:name MATCHES /.*\\.dll/]", "offset 19"),
    ("[a:b = 'x'] WITHIN -5 SECONDS", "offset 19"),
    ("[a:b = 'x'] WITHIN 5 HOURS", "SECONDS"),
    ("[file:hashes.MD5 =? 'cead3f77f6cda6ec00f57d76c9a6879f']", "offset 18"),
    ("[x:detected == t'2457-73-22T32:81:84.1Z']", "timestamp"),
    ("[artifact:payload_bin = b'====']", "base64"),
    ("[foo:bar=1] within 2 seconds", "offset 12"),
    ("[file:hashes.'SHA-256' = 'f00']", "SHA-256"),
    ("[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", "duplicate"),
    ("[a:b = 1] REPEATS 0 TIMES", "REPEATS"),
    ("[a:b = 1] WITHIN 0 SECONDS", "WITHIN"),
    ("[a:b = 1] START t'2020-01-02T00:00:00Z' STOP t'2020-01-01T00:00:00Z'", "STOP"),
    ("[a:b MATCHES '(unclosed']", "regex"),
    ("[a:b ISSUBSET 'not-an-address']", "ISSUBSET"),
    ("[a:b IN (1, 'x')]", "same type"),
    ("[a:b = h'abc']", "even"),
    ("[a:b = 'bad \\q escape']", "escape"),
    ("[some-type:needs-quotes = 1]", "quoted"),
    ("[a:b = null]", "offset 7"),
    ("[a:b = 1] START t'2020-01-01T00:00:00Z'", "STOP"),
    ("", "empty"),
]


@pytest.mark.parametrize("pattern", VALID)
def test_check_valid(meridian_bin, pattern):
    p = run(meridian_bin, "pattern", "check", pattern)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "valid"


@pytest.mark.parametrize("pattern,needle", INVALID)
def test_check_invalid(meridian_bin, pattern, needle):
    p = run(meridian_bin, "pattern", "check", pattern)
    assert p.returncode == 1
    assert "STIX 2.1 §" in p.stderr
    assert needle in p.stderr, p.stderr


@pytest.mark.parametrize("pattern", VALID)
def test_print_is_a_fixed_point(meridian_bin, pattern):
    p = run(meridian_bin, "pattern", "print", pattern)
    assert p.returncode == 0, p.stderr
    canon = p.stdout.rstrip("\n")
    again = run(meridian_bin, "pattern", "print", canon)
    assert again.returncode == 0, again.stderr
    assert again.stdout.rstrip("\n") == canon


def test_print_canonical_spelling(meridian_bin):
    p = run(meridian_bin, "pattern", "print",
            "[ file:size== +12 AND file:'name' <> 'a\\'b'] within 5 SECONDS".replace(
                "within", "WITHIN"))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "[file:size = 12 AND file:name != 'a\\'b'] WITHIN 5 SECONDS\n"


def test_eval_errors(meridian_bin, tmp_path):
    f = tmp_path / "data.json"
    f.write_text(json.dumps(BASIC))
    bad = run(meridian_bin, "pattern", "eval", "[test:int = ]", f)
    assert bad.returncode == 2 and "offset" in bad.stderr
    missing = run(meridian_bin, "pattern", "eval", "[test:int = 5]", tmp_path / "none.json")
    assert missing.returncode == 2
    f.write_text("{not json")
    broken = run(meridian_bin, "pattern", "eval", "[test:int = 5]", f)
    assert broken.returncode == 2
    f.write_text(json.dumps(BASIC))
    ts = run(meridian_bin, "pattern", "eval", "[test:bad_ts = t'2010-05-21T13:21:43Z']", f)
    assert ts.returncode == 2 and "not a timestamp" in ts.stderr


def test_eval_stdin_and_list_of_bundles(meridian_bin):
    # the reference matcher's test data: one bundle per observation
    bundles = [bundle(od(1, "2004-10-11T21:44:58Z", [{"type": "person", "name": "alice"}])),
               bundle(od(2, "2004-10-11T21:45:03Z", [{"type": "person", "name": "bob"}]))]
    p = run(meridian_bin, "pattern", "eval",
            "[person:name = 'alice'] FOLLOWEDBY [person:name = 'bob']", "-",
            input=json.dumps(bundles))
    assert p.returncode == 0 and p.stdout == "match\n", p.stderr
    p = run(meridian_bin, "pattern", "eval",
            "[person:name = 'bob'] FOLLOWEDBY [person:name = 'alice']", "-",
            input=json.dumps(bundles))
    assert p.returncode == 1 and p.stdout == "no match\n", p.stderr


def test_usage(meridian_bin):
    assert run(meridian_bin, "pattern").returncode == 2
    assert run(meridian_bin, "pattern", "frobnicate", "x").returncode == 2
    h = run(meridian_bin, "help", "pattern")
    assert h.returncode == 0 and "meridian pattern eval" in h.stdout
