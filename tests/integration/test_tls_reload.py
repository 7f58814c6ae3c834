"""`init --san` and an operator's own certificate reloaded on SIGHUP without
dropping connections (docs/taxii.md, "TLS")."""
import hashlib
import http.client
import shutil
import signal
import socket
import ssl

from node import Node, wait_for


def fingerprint(addr, cafile):
    host, port = addr.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection((host, int(port)), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


def test_init_san_names_are_in_the_certificate(tmp_path, meridian_bin):
    n = Node(meridian_bin, tmp_path / "a")
    n.cli("init", "--data", n.data, "--org", "own", "--san", "node.cert.example",
          "--san", "192.0.2.7", "--san", "2001:db8::7")
    cert = ssl._ssl._test_decode_cert(str(n.data / "cert.pem"))
    sans = cert["subjectAltName"]
    assert ("DNS", "node.cert.example") in sans
    assert ("IP Address", "192.0.2.7") in sans
    assert any(k == "IP Address" and v.upper().startswith("2001:DB8:0:0:0:0:0:7")
               for k, v in sans), sans
    assert ("DNS", "localhost") in sans  # the defaults stay
    bad = n.cli("init", "--data", tmp_path / "b", "--org", "own", "--san", "bad name!",
                check=False)
    assert bad.returncode == 2 and "--san" in bad.stderr
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


def test_sighup_reloads_own_certificate_without_dropping_connections(tmp_path, meridian_bin):
    n = Node(meridian_bin, tmp_path / "a", http=False)
    n.init()
    n.start()
    try:
        before = fingerprint(n.addr, n.ca)
        host, port = n.addr.rsplit(":", 1)
        ctx = ssl.create_default_context(cafile=n.ca)
        keep = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
        hdr = {"Accept": "application/taxii+json;version=2.1",
               "Authorization": f"Bearer {n.admin_token}"}
        keep.request("GET", "/taxii2/", headers=hdr)
        assert keep.getresponse().read() and True
        # the operator's own certificate: here made by another CA
        other = Node(meridian_bin, tmp_path / "other")
        other.init()
        shutil.copy(other.data / "cert.pem", n.data / "cert.pem")
        shutil.copy(other.data / "key.pem", n.data / "key.pem")
        n.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "TLS certificate reloaded" in n.stderr(), timeout=10)
        after = fingerprint(n.addr, other.data / "ca.pem")
        assert after != before
        assert after == hashlib.sha256(
            ssl.PEM_cert_to_DER_cert((n.data / "cert.pem").read_text())).hexdigest()
        # the connection opened before the reload is still served
        keep.request("GET", "/taxii2/", headers=hdr)
        r = keep.getresponse()
        assert r.status == 200 and r.read()
        keep.close()
        # a key that does not match is refused; the current pair stays
        shutil.copy(tmp_path / "a" / "ca.pem", tmp_path / "ca-a.pem")
        (n.data / "key.pem").write_bytes((tmp_path / "a" / "key.pem").read_bytes())
        wrong = Node(meridian_bin, tmp_path / "third")
        wrong.init()
        shutil.copy(wrong.data / "key.pem", n.data / "key.pem")
        n.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "not reloaded" in n.stderr(), timeout=10)
        assert "does not belong to the certificate" in n.stderr()
        assert fingerprint(n.addr, other.data / "ca.pem") == after
    finally:
        n.stop()
