#!/usr/bin/python3
"""Runs a unit test binary against a throwaway PostgreSQL 15.

Usage: with_pg.py TEST-BINARY [ARGS...]. Starts a cluster as
tests/integration/pgcluster.py does (initdb under $TMPDIR as an
unprivileged user, 127.0.0.1, a free port), creates an empty database,
runs the binary with MRD_TEST_PG_DSN naming it, and stops the cluster
whatever the outcome. The binary's exit status is this script's.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "integration"))
from pgcluster import Cluster  # noqa: E402


def main():
    cluster = Cluster().start()
    try:
        env = dict(os.environ, MRD_TEST_PG_DSN=cluster.database())
        return subprocess.run(sys.argv[1:], env=env, timeout=900).returncode
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
