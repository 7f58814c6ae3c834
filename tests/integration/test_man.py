"""Manual pages: one per verb and meridian(1), made by the build from the
text of `meridian help VERB` (`meridian help --man`), rendering without a
warning; --version and `help help`."""
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, run


def verbs(meridian_bin):
    out = run(meridian_bin, "help").stdout
    return re.findall(r"^  (\S+)\s", out.split("verbs:\n", 1)[1], re.M)


def test_version_and_help_help(meridian_bin):
    p = run(meridian_bin, "--version")
    assert p.returncode == 0 and re.fullmatch(r"meridian \d+\.\d+\.\d+\n", p.stdout)
    meson = (ROOT / "meson.build").read_text()
    assert f"version : '{p.stdout.split()[1]}'" in meson
    p = run(meridian_bin, "help", "help")
    assert p.returncode == 0 and p.stdout.startswith("usage: meridian help [VERB]")
    assert "--man" in p.stdout
    assert run(meridian_bin, "help", "nosuchverb").returncode == 2


def groff_warnings(page):
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stderr


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_every_verb_has_a_man_page_that_matches_its_help(meridian_bin):
    build = pathlib.Path(meridian_bin).parent
    names = verbs(meridian_bin) + ["help"]
    assert "serve" in names and "config" in names
    # the build's list (meson.build man_verbs) is every verb, nothing more
    built = sorted(p.name for p in build.glob("meridian-*.1"))
    assert built == sorted(f"meridian-{v}.1" for v in names), built
    for page in [build / "meridian.1"] + [build / f"meridian-{v}.1" for v in names]:
        rc, err = groff_warnings(page)
        assert rc == 0 and err == "", (page, err)
    for v in names:
        page = build / f"meridian-{v}.1"
        # what the build installed is what the binary prints now
        assert page.read_text() == run(meridian_bin, "help", "--man", v).stdout
        out = subprocess.run(["man", "-l", "-P", "cat", str(page)], capture_output=True,
                             text=True, timeout=60,
                             env={"MANWIDTH": "100", "PATH": "/usr/bin:/bin",
                                  "LANG": "C.UTF-8"}).stdout
        help_text = run(meridian_bin, "help", v).stdout
        # every line of the help text appears in the rendered page
        for line in help_text.splitlines()[2:]:
            if line.strip():
                assert line.strip() in out.replace("\u2010", "-"), (v, line)


def test_man_escapes_what_roff_would_misread(meridian_bin):
    page = run(meridian_bin, "help", "--man", "serve").stdout
    body = [l for l in page.splitlines() if not l.startswith(".")]
    assert not any(l.startswith("'") for l in body)
    assert "\\-\\-listen" in page  # options as minus signs, so they copy and paste
