"""Plain-text and CSV indicator lists into `meridian import` (issue 12,
docs/interop.md): values classified or checked against --type, defanged
forms accepted, TLP/confidence/validity/labels from the command line,
bad lines named and skipped, idempotent re-import, and a 1 GB CSV read as
a stream: bounded memory, a clear error, nothing already stored lost."""
import csv
import io
import subprocess

import pytest

from node import start_node
import peakrss

TLP2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"


@pytest.fixture(scope="module")
def node(tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("lists"))
    yield n
    n.stop()


def rows(node, coll, *extra):
    out = node.cli("export", "--data", node.data, "--collection", coll, "--format", "csv",
                   "--all", *extra).stdout
    return [r for r in csv.reader(io.StringIO(out))][1:]


def test_text_list(node, tmp_path):
    coll = node.collection()
    f = tmp_path / "feed.txt"
    f.write_text("# a feed\n198.51.100.99\nhxxp://bad[.]example/a\nEVIL.example   # c2\n\n"
                 "not a value!\nD41D8CD98F00B204E9800998ECF8427F\n2001:db8::/32\nx@mail.example\n")
    p = node.cli("import", "--data", node.data, "--collection", coll, "--format", "text",
                 "--tlp", "amber", "--confidence", "70", "--valid-until", "2030-01-01T00:00:00Z",
                 "--label", "feed-x", "--label", "c2", f, check=False)
    assert p.returncode == 1  # one bad line
    assert "line 6: 'not a value!' is not an IP, domain, URL, e-mail or hash" in p.stderr
    assert "7 values: 6 added, 0 already present, 1 invalid" in p.stderr, p.stderr
    got = {(r[0], r[1]): r for r in rows(node, coll)}
    assert set(got) == {("ipv4", "198.51.100.99"), ("url", "http://bad.example/a"),
                        ("domain", "evil.example"), ("md5", "d41d8cd98f00b204e9800998ecf8427f"),
                        ("ipv6", "2001:db8::/32"), ("email", "x@mail.example")}
    r = got[("domain", "evil.example")]
    assert r[3:] == ["amber", "70", r[5], "2030-01-01T00:00:00.000Z", "feed-x;c2"]
    # the same list again: the same indicators, nothing new
    p = node.cli("import", "--data", node.data, "--collection", coll, "--format", "text",
                 "--tlp", "amber", "--confidence", "70", "--valid-until", "2030-01-01T00:00:00Z",
                 "--label", "feed-x", "--label", "c2", f, check=False)
    assert "7 values: 0 added, 6 already present, 1 invalid" in p.stderr, p.stderr
    # --type makes anything else an error
    g = tmp_path / "ips.txt"
    g.write_text("192.0.2.1\nevil.example\n")
    p = node.cli("import", "--data", node.data, "--collection", coll, "--format", "text",
                 "--type", "ip", g, check=False)
    assert "line 2: 'evil.example' is not an IP address or CIDR range" in p.stderr


def test_csv_list_with_column_map(node, tmp_path):
    coll = node.collection()
    f = tmp_path / "feed.csv"
    f.write_text('first_seen,threat,url\n2026-01-01,"phish, kit",http://a.example/x\n'
                 '2026-01-02,c2,"http://b.example/q?x=""1"""\n2026-01-03,broken,"unterminated\n'
                 '2026-01-04,short\n')
    p = node.cli("import", "--data", node.data, "--collection", coll, "--format", "csv", f,
                 check=False)
    assert "line 4: not a CSV record" in p.stderr and "line 5: no column 3" in p.stderr, p.stderr
    assert "4 values: 2 added, 0 already present, 2 invalid" in p.stderr, p.stderr
    assert sorted(r[1] for r in rows(node, coll)) == ["http://a.example/x",
                                                     'http://b.example/q?x="1"']
    # a column by number, another separator
    g = tmp_path / "semi.csv"
    g.write_text("ip;note\n192.0.2.7;x\n")
    node.cli("import", "--data", node.data, "--collection", coll, "--format", "csv",
             "--separator", ";", "--column", "1", g)
    assert "192.0.2.7" in [r[1] for r in rows(node, coll)]
    p = node.cli("import", "--data", node.data, "--collection", coll, "--format", "csv",
                 "--column", "nope", g, check=False)
    assert p.returncode == 2 and "no column 'nope'" in p.stderr


def test_one_gigabyte_csv_is_streamed(node, tmp_path, meridian_bin):
    """1 GiB of CSV on stdin: a header, two good rows, a line of 1 GiB that is
    no value, one more good row. Memory stays flat, the long line is
    named, the good rows are stored and nothing stored before is lost."""
    coll = node.collection()
    first = tmp_path / "first.txt"
    first.write_text("203.0.113.1\n")
    node.cli("import", "--data", node.data, "--collection", coll, "--format", "text", first)
    before = rows(node, coll)
    report = tmp_path / "import.rss"
    proc = subprocess.Popen(peakrss.wrap([meridian_bin, "import", "--data", str(node.data),
                                          "--collection", coll, "--format", "csv", "-"], report),
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    chunk = b"A" * (1 << 20)
    try:
        proc.stdin.write(b"value,note\n203.0.113.2,ok\n203.0.113.3,ok\n")
        for _ in range(1024):
            proc.stdin.write(chunk)
        proc.stdin.write(b",junk\n203.0.113.4,ok\n")
        proc.stdin.close()
        err = proc.stderr.read().decode()
        rc = proc.wait(timeout=600)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert "Sanitizer" not in err, err
    assert rc == 1, err
    assert "-: line 4: longer than 65536 bytes; skipped" in err, err
    assert "4 values: 3 added, 0 already present, 1 invalid" in err, err
    # the importer's peak RSS (KiB): it never held the line
    rss = peakrss.read(report)
    assert rss < 400 * 1024, rss
    after = rows(node, coll)
    assert [r for r in before if r not in after] == []
    assert sorted(r[1] for r in after) == ["203.0.113.1", "203.0.113.2", "203.0.113.3",
                                            "203.0.113.4"]


def test_list_options_need_a_list_format(node, tmp_path):
    coll = node.collection()
    f = tmp_path / "x.json"
    f.write_text("{}")
    p = node.cli("import", "--data", node.data, "--collection", coll, "--tlp", "red", f,
                 check=False)
    assert p.returncode == 2 and "--format csv or text" in p.stderr
