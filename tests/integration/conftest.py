"""Shared fixtures for integration tests: they run the real `meridian`
binary (MERIDIAN_BIN, the ASan build under scripts/test) as a subprocess."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Tests never read the machine's /etc/meridian/meridian.conf (a node
# installed from the package would otherwise lend its settings to every
# `serve` and its data directory to every verb); tests that need a config
# file set MERIDIAN_CONFIG themselves.
os.environ["MERIDIAN_CONFIG"] = os.devnull


@pytest.fixture(scope="session", autouse=True)
def session_pg_cluster():
    """With MERIDIAN_TEST_STORE=pg: the one PostgreSQL cluster of the
    session (pgcluster.py), stopped when the session ends."""
    from pgcluster import stop_session_cluster
    yield
    stop_session_cluster()


@pytest.fixture(scope="session")
def meridian_bin():
    path = os.environ.get("MERIDIAN_BIN", str(ROOT / "build-dev" / "meridian"))
    assert os.access(path, os.X_OK), f"no meridian binary at {path} (set MERIDIAN_BIN)"
    return path


DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def data_dir():
    """tests/data: third-party test data kept in the repository, each folder
    with its licence (see tests/data/README.md)."""
    assert DATA.is_dir(), f"test data folder missing: {DATA}"
    return DATA


def data_file(rel):
    """A file under tests/data, or a failure naming the missing file."""
    path = DATA / rel
    assert path.is_file(), f"test data file missing: {path}"
    return path


def run(meridian_bin, *args, input=None, timeout=60):
    """Runs meridian with args; returns the CompletedProcess (text mode).
    A sanitizer report on stderr fails the test whatever the exit code."""
    from pgcluster import init_args  # MERIDIAN_TEST_STORE=pg: init on PostgreSQL
    p = subprocess.run([meridian_bin, *init_args(args)], input=input, capture_output=True,
                       text=True, timeout=timeout)
    assert "Sanitizer" not in p.stderr, p.stderr
    return p
