"""The Debian package (slow: it builds the whole project once more, 3-4
minutes): scripts/build-deb runs dpkg-buildpackage and lintian; the .deb is
installed into a throwaway root with `dpkg --root`; its unit is verified
with `systemd-analyze verify` in a mount namespace the test makes, where
overlays show the installed files at their real paths."""
import os
import subprocess

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="dpkg --root and mount namespaces need root")


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    out = tmp_path_factory.mktemp("deb")
    p = subprocess.run([str(ROOT / "scripts" / "build-deb"), str(out)], capture_output=True,
                       text=True, timeout=1800)
    assert p.returncode == 0, p.stdout + p.stderr
    debs = list(out.glob("meridian_*_*.deb"))
    assert len(debs) == 1, debs
    return debs[0]


@pytest.fixture(scope="module")
def root(deb, tmp_path_factory):
    r = tmp_path_factory.mktemp("root")
    (r / "var/lib/dpkg/info").mkdir(parents=True)
    (r / "var/lib/dpkg/updates").mkdir()
    (r / "var/lib/dpkg/status").touch()
    # The libraries are the host's: --force-depends; maintainer scripts run
    # outside the root with DPKG_ROOT set (debhelper's snippets honour it).
    p = subprocess.run(["dpkg", f"--root={r}", "--force-script-chrootless", "--force-depends",
                        "-i", str(deb)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return r


def test_lintian_reports_no_errors(deb):
    p = subprocess.run(["lintian", "--fail-on", "error", str(deb)], capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert not [l for l in p.stdout.splitlines() if l.startswith("E:")], p.stdout


def test_package_installs_binary_unit_man_pages_config_and_user(root):
    assert os.access(root / "usr/bin/meridian", os.X_OK)
    unit = (root / "lib/systemd/system/meridian.service").read_text()
    for line in ("User=meridian", "ProtectSystem=strict", "NoNewPrivileges=yes",
                 "CapabilityBoundingSet=\n", "ReadWritePaths=/var/lib/meridian",
                 "ExecStart=/usr/bin/meridian serve --config /etc/meridian/meridian.conf"):
        assert line in unit, line
    # ReadWritePaths names the data directory and nothing else
    rw = [l for l in unit.splitlines() if l.startswith("ReadWritePaths=")]
    assert rw == ["ReadWritePaths=/var/lib/meridian"]
    man = sorted(p.name for p in (root / "usr/share/man/man1").glob("meridian*.1.gz"))
    assert "meridian.1.gz" in man and "meridian-serve.1.gz" in man and len(man) >= 20
    passwd = (root / "etc/passwd").read_text()
    user = [l.split(":") for l in passwd.splitlines() if l.startswith("meridian:")]
    assert user and user[0][5] == "/var/lib/meridian", passwd
    # the data directory exists for `sudo -u meridian meridian init`, the
    # user's alone
    st = (root / "var/lib/meridian").stat()
    assert (st.st_uid, st.st_gid) == (int(user[0][2]), int(user[0][3]))
    assert st.st_mode & 0o777 == 0o750
    conf = root / "etc/meridian/meridian.conf"
    assert "data = /var/lib/meridian" in conf.read_text()
    # the installed binary accepts the installed config file
    p = subprocess.run([str(root / "usr/bin/meridian"), "config", "check", str(conf)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    status = (root / "var/lib/dpkg/status").read_text()
    assert "Package: meridian\nStatus: install ok installed" in status


def in_namespace(root, script):
    """Runs script (sh) in a new mount namespace where the installed files
    overlay /usr/bin, the man pages and the unit directory, and the man
    index is a scratch tmpfs: nothing outside the namespace changes."""
    mounts = []
    for sub in ("usr/bin", "usr/share/man/man1", "lib/systemd/system"):
        host = "/" + sub
        mounts.append(f"mount -t overlay overlay -o lowerdir={root / sub}:{host} {host}")
    mounts.append("mount -t tmpfs tmpfs /var/cache/man")
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-ec",
                           " && ".join(mounts) + "\n" + script],
                          capture_output=True, text=True, timeout=300)


def test_systemd_analyze_verifies_the_unit(root):
    p = in_namespace(root, "mandb -q >/dev/null 2>&1 || true\n"
                           "systemd-analyze verify meridian.service\n"
                           "systemd-analyze security --offline=true --threshold=30 "
                           "/lib/systemd/system/meridian.service\n")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "meridian.service" not in p.stderr, p.stderr  # no complaint about the unit
    assert "Overall exposure level for meridian.service" in p.stdout


def test_installed_man_pages_render(root):
    for page in (root / "usr/share/man/man1").glob("meridian*.1.gz"):
        p = subprocess.run(f"zcat {page} | groff -man -Tutf8 -ww -z", shell=True,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and p.stderr == "", (page, p.stderr)
