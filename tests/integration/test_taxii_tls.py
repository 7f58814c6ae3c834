"""HTTPS: the certificate `meridian init` makes, verified with its CA by
requests, curl and gnutls-cli; TLS 1.2+ and AEAD suites only (TAXII 2.1
§8.2.2, RFC 7540 App. A)."""
import shutil
import subprocess

import pytest
import requests

from node import TAXII, assert_taxii_error, start_node, wait_for


@pytest.fixture(scope="module")
def tnode(tmp_path_factory, meridian_bin):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("tls"), http=False)
    yield n
    n.stop()


def test_https_with_the_node_ca(tnode):
    assert tnode.url.startswith("https://127.0.0.1:")
    r = tnode.get("/taxii2/")
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    port = tnode.addr.rsplit(":", 1)[1]
    r = requests.get(f"https://localhost:{port}/taxii2/", verify=tnode.ca, timeout=10,
                     headers=tnode.headers())
    assert r.status_code == 200


def test_untrusted_without_the_ca(tnode):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tnode.url + "/taxii2/", timeout=10, headers=tnode.headers())


def test_plain_http_to_https_port_fails(tnode):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("http://" + tnode.addr + "/taxii2/", timeout=10, headers=tnode.headers())


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_with_cacert(tnode):
    p = subprocess.run(["curl", "-sS", "--fail", "--cacert", tnode.ca, "-H", f"Accept: {TAXII}",
                        "-H", f"Authorization: Bearer {tnode.admin_token}",
                        tnode.url + "/taxii2/"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    assert '"title"' in p.stdout


def gnutls(tnode, priority):
    port = tnode.addr.rsplit(":", 1)[1]
    p = subprocess.run(["gnutls-cli", "--x509cafile", tnode.ca, "--priority", priority, "-p", port,
                        "127.0.0.1"], input="", capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout + p.stderr


@pytest.mark.skipif(shutil.which("gnutls-cli") is None, reason="gnutls-bin not installed")
@pytest.mark.parametrize("priority,ok", [
    ("NORMAL:-VERS-ALL:+VERS-TLS1.3", True),
    ("NORMAL:-VERS-ALL:+VERS-TLS1.2", True),
    ("NORMAL:-VERS-ALL:+VERS-TLS1.1", False),
    ("NORMAL:-VERS-ALL:+VERS-TLS1.0", False),
    ("NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC:+3DES-CBC", False),
    ("NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA", False),
    ("NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+DHE-RSA", False),
])
def test_tls_versions_and_suites(tnode, priority, ok):
    rc, out = gnutls(tnode, priority)
    assert (rc == 0) == ok, out


def make_client_pki(d, cn):
    """A client CA and a client certificate for CN, with GnuTLS's certtool."""
    d.mkdir(parents=True, exist_ok=True)

    def certtool(*args, template=None):
        if template is not None:
            (d / "tmpl").write_text(template)
            args = args + ("--template", str(d / "tmpl"))
        subprocess.run(["certtool", *args], check=True, capture_output=True, timeout=60)

    certtool("--generate-privkey", "--key-type", "ecdsa", "--outfile", str(d / "ca.key"))
    certtool("--generate-self-signed", "--load-privkey", str(d / "ca.key"),
             "--outfile", str(d / "ca.pem"),
             template='cn = "test client CA"\nca\ncert_signing_key\nexpiration_days = 2\n')
    certtool("--generate-privkey", "--key-type", "ecdsa", "--outfile", str(d / "client.key"))
    certtool("--generate-certificate", "--load-privkey", str(d / "client.key"),
             "--load-ca-certificate", str(d / "ca.pem"), "--load-ca-privkey", str(d / "ca.key"),
             "--outfile", str(d / "client.pem"),
             template=f'cn = "{cn}"\ntls_www_client\nsigning_key\nexpiration_days = 2\n')
    return d / "ca.pem", (str(d / "client.pem"), str(d / "client.key"))


@pytest.mark.skipif(shutil.which("certtool") is None, reason="gnutls-bin not installed")
def test_client_certificate_authentication(tmp_path, meridian_bin):
    good_ca, good = make_client_pki(tmp_path / "pki", "certorg")
    _, stranger = make_client_pki(tmp_path / "other", "certorg")
    n = start_node(meridian_bin, tmp_path / "node", http=False)
    try:
        n.stop()
        n.extra_args = ["--client-ca", str(good_ca)]
        n.org("certorg", "constituent")
        cid = n.collection(grants=(("own", True, True), ("certorg", True, False)))
        n.start()
        path = f"/api1/collections/{cid}/objects/"
        r = n.get(path, token=None, cert=good)
        assert r.status_code == 200, r.text
        wait_for(lambda: "token=cert:certorg" in n.stderr(), 5)  # logged after the response
        assert_taxii_error(n.get(path, token=None, cert=stranger), 401)  # other CA
        assert_taxii_error(n.get(path, token=None), 401)  # no certificate
        # the certificate names an org that has no grant on this collection
        ucid = n.collection()
        assert_taxii_error(n.get(f"/api1/collections/{ucid}/objects/", token=None, cert=good),
                           404)
        # a token still works, and wins over the certificate
        assert n.get(path, cert=good).status_code == 200
    finally:
        n.stop()
