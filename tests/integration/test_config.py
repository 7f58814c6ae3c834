"""The config file: `meridian config check` with line numbers, serve reading
it (--config, $MERIDIAN_CONFIG) with flags overriding it, and the docs and
help generated from the same key table."""
import pathlib
import re
import subprocess

from conftest import ROOT, run
from node import Node, wait_for


def test_config_check_reports_every_error_with_its_line(tmp_path, meridian_bin):
    f = tmp_path / "bad.conf"
    f.write_text("# a comment\n"
                 "listen = 127.0.0.1:99999\n"
                 "threads = many\n"
                 "\n"
                 "bogus = 1\n"
                 "this line has no equals sign\n"
                 "[serve]\n"
                 "rate = 2000000000\n"
                 "log-format = xml\n"
                 "http = maybe\n"
                 "name\x1b[31m = x\n"
                 "[elsewhere]\n"
                 "threads = 4\n")
    p = run(meridian_bin, "config", "check", f)
    assert p.returncode == 1, p.stderr
    errs = p.stderr.splitlines()
    want = [(2, "listen"), (3, "threads: 'many' is not a number"), (5, "unknown setting 'bogus'"),
            (6, "expected 'name = value'"), (8, "rate: 2000000000 is out of range"),
            (9, "log-format: 'xml' is not one of text, json"),
            (10, "http: 'maybe' is not true or false"), (11, "unknown setting"),
            (13, "section [elsewhere] is not known")]
    assert len(errs) == len(want), errs
    for line, (n, text) in zip(errs, want):
        assert line.startswith(f"{f}:{n}: "), (line, n)
        assert text in line, (line, text)
    assert "\x1b" not in p.stderr and "name\\x1B[31m" in p.stderr


def test_config_check_accepts_every_default_and_the_example(tmp_path, meridian_bin):
    p = run(meridian_bin, "config", "example")
    assert p.returncode == 0
    ex = tmp_path / "example.conf"
    ex.write_text(p.stdout)
    assert run(meridian_bin, "config", "check", ex).returncode == 0
    # every commented-out default, enabled, is valid too
    lines = [l[1:] for l in p.stdout.splitlines()
             if re.match(r"^#[a-z-]+ = ", l) and not re.match(r"^#[a-z-]+ = [A-Z:]+$", l)]
    assert len(lines) >= 12, lines
    on = tmp_path / "on.conf"
    on.write_text("\n".join(lines) + "\n")
    p = run(meridian_bin, "config", "check", on)
    assert p.returncode == 0 and "ok" in p.stdout, p.stderr


def test_config_check_missing_file_is_a_usage_error(tmp_path, meridian_bin):
    p = run(meridian_bin, "config", "check", tmp_path / "nope.conf")
    assert p.returncode == 2 and "nope.conf" in p.stderr


def test_serve_reads_the_file_and_flags_override_it(tmp_path, meridian_bin):
    n = Node(meridian_bin, tmp_path / "d")
    (tmp_path / "d").mkdir()
    n.init()
    log = tmp_path / "serve.log"
    conf = tmp_path / "meridian.conf"
    conf.write_text(f"[serve]\n"
                    f"data = {n.data}\n"
                    f"http = true\n"
                    f"listen = 127.0.0.1:0\n"
                    f"log = {log}\n"
                    f"log-format = json\n"
                    f"ready-file = {tmp_path / 'ready'}\n"
                    f"rate = 1\n")
    p = subprocess.Popen([meridian_bin, "serve", "--config", str(conf), "--log-format", "text",
                          "--rate", "0"], stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (tmp_path / "ready").exists() or p.poll() is not None, 20)
        assert p.poll() is None, p.stderr.read()
        url = "http://" + (tmp_path / "ready").read_text().strip()
        import requests
        h = {"Authorization": f"Bearer {n.admin_token}",
             "Accept": "application/taxii+json;version=2.1"}
        # rate = 1 from the file would refuse the second of a quick burst;
        # --rate 0 (unlimited) overrides it
        codes = [requests.get(url + "/taxii2/", headers=h, timeout=10).status_code
                 for _ in range(5)]
        assert codes == [200] * 5
        wait_for(lambda: log.exists() and " access " in log.read_text(), 5)
        # --log-format text overrode the file's json; the file's log target held
        assert log.read_text().splitlines()[-1].split(" ")[2] == "access"
    finally:
        p.terminate()
        assert p.wait(timeout=20) == 0
        p.stderr.close()


def test_serve_refuses_a_bad_config_file_naming_the_line(tmp_path, meridian_bin):
    conf = tmp_path / "meridian.conf"
    conf.write_text("http = true\nthreads = -3\n")
    p = run(meridian_bin, "serve", "--config", conf, "--data", tmp_path)
    assert p.returncode == 2
    assert f"{conf}:2: threads" in p.stderr
    # $MERIDIAN_CONFIG names the default file
    import os
    env = dict(os.environ, MERIDIAN_CONFIG=str(conf))
    q = subprocess.run([meridian_bin, "serve", "--data", str(tmp_path)], env=env,
                       capture_output=True, text=True, timeout=30)
    assert q.returncode == 2 and f"{conf}:2: threads" in q.stderr


def test_docs_and_help_come_from_the_key_table(meridian_bin):
    keys = run(meridian_bin, "config", "keys").stdout
    assert keys.count("\n  --") >= 19
    # `meridian help serve` (and so its man page) lists the same options
    assert keys in run(meridian_bin, "help", "serve").stdout
    # docs/deployment.md carries the table as the program prints it
    doc = (ROOT / "docs" / "deployment.md").read_text()
    assert keys in doc, "docs/deployment.md: paste the output of 'meridian config keys'"
    # and the packaged example file is what 'config example' prints
    ex = (ROOT / "debian" / "meridian.conf").read_text()
    example = run(meridian_bin, "config", "example").stdout
    assert example in ex, "debian/meridian.conf: regenerate from 'meridian config example'"
