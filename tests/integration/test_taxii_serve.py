"""`meridian serve` as a process: ready file, signals, usage and start-up
errors (exit codes 0 and 2, clear messages)."""
import os
import signal
import socket
import subprocess

from node import Node, start_node, wait_for


def test_sigint_stops_cleanly(tmp_path, meridian_bin):
    n = start_node(meridian_bin, tmp_path / "d")
    host, port = n.addr.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    n.proc.send_signal(signal.SIGINT)
    assert n.proc.wait(timeout=20) == 0
    n.proc = None
    assert "Sanitizer" not in n.stderr()
    assert "stopping" in n.stderr()
    # restart on the same data directory: same token still valid
    n.start()
    assert n.get("/taxii2/").status_code == 200
    n.stop()


def serve(meridian_bin, *args, timeout=20, cwd=None, env=None):
    p = subprocess.run([meridian_bin, "serve", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, cwd=cwd, env=env)
    assert "Sanitizer" not in p.stderr, p.stderr
    return p


def test_usage_errors(tmp_path, meridian_bin):
    # Without --data: the default data directory (./node-data here, as for
    # every verb), which does not exist yet.
    env = {k: v for k, v in os.environ.items() if k not in ("MERIDIAN_DATA", "MERIDIAN_CONFIG")}
    env["MERIDIAN_CONFIG"] = str(tmp_path / "no.conf")
    p = serve(meridian_bin, "--http", "--listen", "127.0.0.1:0", cwd=tmp_path, env=env)
    assert p.returncode == 2 and "./node-data" in p.stderr and "meridian init" in p.stderr
    p = serve(meridian_bin, "--data", tmp_path, "--listen", "nohostport", "--http")
    assert p.returncode == 2 and "--listen" in p.stderr
    p = serve(meridian_bin, "--data", tmp_path, "--threads", "many", "--http")
    assert p.returncode == 2 and "not a number" in p.stderr
    p = serve(meridian_bin, "--data", tmp_path / "missing", "--listen", "127.0.0.1:0", "--http")
    assert p.returncode == 2 and "meridian init" in p.stderr


def test_https_needs_certificate(tmp_path, meridian_bin):
    n = Node(meridian_bin, tmp_path / "d", http=False)
    (tmp_path / "d").mkdir()
    n.init()
    os.unlink(tmp_path / "d" / "cert.pem")
    p = serve(meridian_bin, "--data", tmp_path / "d", "--listen", "127.0.0.1:0")
    assert p.returncode == 2
    assert "cert.pem" in p.stderr and "--http" in p.stderr


def test_address_in_use(tmp_path, meridian_bin):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        n = Node(meridian_bin, tmp_path / "d")
        (tmp_path / "d").mkdir()
        n.init()
        p = serve(meridian_bin, "--data", tmp_path / "d", "--listen", f"127.0.0.1:{port}",
                  "--http", "--ready-file", tmp_path / "ready")
        assert p.returncode == 2 and "cannot listen" in p.stderr
        assert not (tmp_path / "ready").exists()
    finally:
        s.close()


def test_ready_file_is_written_atomically(tmp_path, meridian_bin):
    n = start_node(meridian_bin, tmp_path / "d")
    try:
        text = (n.data / "ready").read_text()
        assert text.endswith("\n") and text.count(":") == 1
        wait_for(lambda: "serving TAXII 2.1 on http://" in n.stderr(), 5)
    finally:
        n.stop()
