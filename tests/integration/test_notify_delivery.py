"""Early-warning delivery (docs/notify.md, "Delivery"): the notifications
routing records reach each org's contacts by e-mail through a real SMTP
relay (aiosmtpd on loopback, STARTTLS with a certificate this test makes,
AUTH) and by a signed webhook POST (an http.server this test runs, which
checks the HMAC), immediately or in a digest; encrypted with the contact's
OpenPGP key (gpg in a GNUPGHOME of this test); every send recorded, each
message sent a ledger leaf; failures retried, then dead letters the
operator retries, while the node keeps serving."""
import datetime
import email
import email.policy
import hashlib
import hmac
import http.server
import ipaddress
import json
import os
import socket
import subprocess
import threading
import time
import uuid

import pytest

from node import TLP_GREEN, indicator, start_node, wait_for

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

SMTP_USER, SMTP_PASSWORD = "meridian", "relay-s3cret"
SECRET = "hook-secret-0123456789"


def make_cert(d):
    """A self-signed certificate for 127.0.0.1 (and its key), PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (d / "smtp-cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "smtp-key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return d / "smtp-cert.pem", d / "smtp-key.pem"


class Mailbox:
    """What the relay accepted: (from, [to], parsed message)."""

    def __init__(self):
        self.mails = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        with self.lock:
            self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), msg,
                               session.authenticated, bool(session.ssl)))
        return "250 OK"

    def to(self, addr):
        with self.lock:
            return [m for m in self.mails if addr in m[1]]


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
          and auth_data.password == SMTP_PASSWORD.encode())
    return AuthResult(success=ok)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hooks(http.server.ThreadingHTTPServer):
    """The webhook receiver: keeps each POST with whether its HMAC was
    right; /hang waits past the sender's timeout while self.hang is set."""
    daemon_threads = True

    def __init__(self):
        self.posts = []
        self.hang = threading.Event()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), HookHandler)


class HookHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/hang" and self.server.hang.is_set():
            time.sleep(3)  # past the sender's deliver-timeout of 1 s
        ts = self.headers.get("X-Meridian-Timestamp", "")
        want = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(want, self.headers.get("X-Meridian-Signature", ""))
        with self.server.lock:
            self.server.posts.append((self.path, ok, json.loads(body), ts))
        try:
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass  # the sender gave up waiting


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    import ssl
    d = tmp_path_factory.mktemp("relay")
    cert, key = make_cert(d)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    box = Mailbox()
    port = free_port()
    c = aiosmtpd_controller.Controller(
        box, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
        auth_required=True, auth_require_tls=True, authenticator=authenticator)
    c.start()
    hooks = Hooks()
    t = threading.Thread(target=hooks.serve_forever, daemon=True)
    t.start()
    pw = d / "smtp-password"
    pw.write_text(SMTP_PASSWORD + "\n")
    secret = d / "hook-secret"
    secret.write_text(SECRET + "\n")
    yield {"box": box, "port": port, "cert": cert, "pw": pw, "secret": secret, "hooks": hooks,
           "hook_url": f"http://127.0.0.1:{hooks.server_address[1]}"}
    hooks.shutdown()
    hooks.server_close()
    c.stop()


def deliver_args(r, relay_port=None, attempts=2):
    return ["--smtp-relay", f"127.0.0.1:{relay_port or r['port']}",
            "--smtp-from", "warnings@cert.example", "--smtp-user", SMTP_USER,
            "--smtp-password-file", r["pw"], "--smtp-ca", r["cert"],
            "--deliver-backoff", "1", "--deliver-attempts", str(attempts),
            "--deliver-timeout", "1"]


def write_conf(path, args):
    """meridian.conf lines from serve-style flags."""
    lines, it = [], iter(args)
    for k in it:
        lines.append(f"{k[2:]} = {next(it)}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def fed(tmp_path_factory, meridian_bin, relay):
    n = start_node(meridian_bin, tmp_path_factory.mktemp("deliver"),
                   extra_args=[str(a) for a in deliver_args(relay)])
    for org in ("alpha", "beta", "gamma", "eps"):
        n.org(org, "constituent")
    shared = n.collection(grants=(("own", True, True), ("alpha", True, False),
                                  ("beta", True, False), ("gamma", True, False),
                                  ("eps", True, False)))
    n.cli("asset", "add", "--org", "alpha", "10.30.0.0/16", "--data", n.data)
    n.cli("asset", "add", "--org", "beta", "10.40.0.0/16", "--data", n.data)
    n.cli("asset", "add", "--org", "gamma", "10.60.0.0/16", "--data", n.data)
    n.cli("asset", "add", "--org", "eps", "10.70.0.0/16", "--data", n.data)
    yield n, shared
    n.stop()


def deliveries(n, *extra):
    return json.loads(n.cli("notify", "deliveries", "--json", "--data", n.data,
                            *extra).stdout)["deliveries"]


def parts(msg):
    """Content type -> decoded payload of each leaf part."""
    out = {}
    for p in msg.walk():
        if not p.is_multipart():
            out.setdefault(p.get_content_type(), []).append(p.get_payload(decode=True))
    return out


def sighting_of(ind):
    return {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
            "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
            "sighting_of_ref": ind["id"], "count": 1,
            "object_marking_refs": ind["object_marking_refs"]}


def test_contacts_are_checked_and_audited(fed, relay):
    n, _ = fed
    bad = [["--email", "a@b.example\r\nBcc: x@evil.example"], ["--email", "no-at-sign"],
           ["--webhook", "ftp://x.example/"], ["--email", "a@alpha.example", "--schedule", "weekly"]]
    for args in bad:
        p = n.cli("contact", "add", "--org", "alpha", *args, "--data", n.data, check=False)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert "\r" not in p.stderr and "\x1b" not in p.stderr
    assert "weekly" in p.stderr and "immediate, hourly or daily" in p.stderr
    p = n.cli("contact", "add", "--org", "alpha", "--webhook", relay["hook_url"] + "/made",
              "--data", n.data)
    secret = [x for x in p.stdout.splitlines() if x.startswith("secret: ")][0][8:]
    assert len(secret) == 64
    listed = n.cli("contact", "list", "--org", "alpha", "--data", n.data).stdout
    assert "/made" in listed and secret not in listed
    cid = p.stdout.split("\t")[0]
    n.cli("contact", "remove", cid, "--data", n.data)
    audit = n.cli("audit", "--json", "--data", n.data).stdout
    assert "contact" in audit and "/made" in audit and secret not in audit


def test_a_sighting_reaches_its_owners_contacts_once_and_nobody_else(fed, relay):
    n, shared = fed
    box, hooks = relay["box"], relay["hooks"]
    n.cli("contact", "add", "--org", "alpha", "--email", "soc@alpha.example", "--data", n.data)
    n.cli("contact", "add", "--org", "alpha", "--webhook", relay["hook_url"] + "/alpha",
          "--secret-file", relay["secret"], "--data", n.data)
    n.cli("contact", "add", "--org", "beta", "--email", "soc@beta.example", "--data", n.data)
    ind = indicator(tlp=TLP_GREEN, value="10.30.1.5")
    n.post_ok(shared, [ind])
    sighting = sighting_of(ind)
    n.post_ok(shared, [sighting])

    def mails_naming(addr, what):
        return [m for m in box.to(addr)
                if any(what.encode() in b for b in parts(m[2]).get("application/stix+json", []))]

    def hooks_naming(what):
        return [p for p in hooks.posts if p[0] == "/alpha"
                and any(o["id"] == what for o in p[2]["objects"])]

    wait_for(lambda: mails_naming("soc@alpha.example", sighting["id"])
             and hooks_naming(sighting["id"]), timeout=15)
    mail = mails_naming("soc@alpha.example", sighting["id"])[0]
    assert mail[0] == "warnings@cert.example"
    assert mail[3] and mail[4]  # authenticated, after STARTTLS
    summary = parts(mail[2])["text/plain"][0].decode()
    assert "Asset 10.30.0.0/16" in summary and "10.30.1.5" in summary
    bundle = json.loads(mails_naming("soc@alpha.example", sighting["id"])[0] and
                        parts(mail[2])["application/stix+json"][0])
    assert bundle["type"] == "bundle" and sighting["id"] in [o["id"] for o in bundle["objects"]]
    post = hooks_naming(sighting["id"])[0]
    assert post[1], "the HMAC over timestamp and body checks out"
    assert abs(int(post[3]) - time.time()) < 120
    assert [x for x in post[2]["notifications"] if x["value"] == "10.30.1.5"]
    # squelched: the same sighting value again tells nobody again
    again = sighting_of(ind)
    n.post_ok(shared, [again])
    probe = indicator(tlp=TLP_GREEN, value="10.30.9.9")  # a fresh finding, to know it ran
    n.post_ok(shared, [probe])
    wait_for(lambda: mails_naming("soc@alpha.example", probe["id"]), timeout=15)
    assert not mails_naming("soc@alpha.example", again["id"])
    assert len(mails_naming("soc@alpha.example", sighting["id"])) == 1
    assert len(hooks_naming(sighting["id"])) == 1
    # beta was told nothing
    assert box.to("soc@beta.example") == []
    # the record: sent, each with its ledger event
    sent = [d for d in deliveries(n, "--org", "alpha") if d["status"] == "sent"]
    assert {d["channel"] for d in sent} == {"email", "webhook"}
    assert all(d["ledger_event"] > 0 and d["attempts"] == 1 for d in sent)
    # each is a leaf of the ledger: its record says who, what, when, how
    def leaves():
        out = {}
        for line in n.cli("audit", "--json", "--data", n.data).stdout.splitlines():
            e = json.loads(line)
            if e["kind"] == "delivery" and e["leaf"] is not None:
                out[e["event"]] = e["record"]
        return out
    wait_for(lambda: all(d["ledger_event"] in leaves() for d in sent), timeout=15)
    for d in sent:
        rec = leaves()[d["ledger_event"]]
        assert rec["type"] == "meridian-delivery" and rec["delivery"] == d["n"]
        assert rec["org"] == "alpha" and rec["to"] == d["to"] and rec["channel"] == d["channel"]
        assert len(rec["notifications"]) == d["notifications"]


def gpg(home, *args, input_bytes=None):
    env = dict(os.environ, GNUPGHOME=str(home))
    return subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                           *args], env=env, input=input_bytes, capture_output=True,
                          timeout=60, check=True)


def test_mail_to_a_contact_with_a_key_is_pgp_mime_and_decrypts(fed, relay, tmp_path):
    n, shared = fed
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    try:
        gpg(home, "--quick-gen-key", "soc@gamma.example", "future-default", "default", "never")
        pub = gpg(home, "--armor", "--export", "soc@gamma.example").stdout
        (tmp_path / "gamma.asc").write_bytes(pub)
        n.cli("contact", "add", "--org", "gamma", "--email", "soc@gamma.example",
              "--pgp-key", tmp_path / "gamma.asc", "--data", n.data)
        n.post_ok(shared, [indicator(tlp=TLP_GREEN, value="10.60.3.3")])
        wait_for(lambda: relay["box"].to("soc@gamma.example"), timeout=15)
        msg = relay["box"].to("soc@gamma.example")[0][2]
        assert msg.get_content_type() == "multipart/encrypted"
        assert msg.get_param("protocol") == "application/pgp-encrypted"
        raw = msg.as_bytes()
        assert b"10.60.3.3" not in raw and b"gamma" not in msg["Subject"].encode()
        armored = parts(msg)["application/octet-stream"][0]
        assert armored.startswith(b"-----BEGIN PGP MESSAGE-----")
        inner = email.message_from_bytes(gpg(home, "--decrypt", input_bytes=armored).stdout,
                                         policy=email.policy.default)
        summary = parts(inner)["text/plain"][0].decode()
        assert "Asset 10.60.0.0/16" in summary and "10.60.3.3" in summary
        assert parts(inner)["application/stix+json"]
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=dict(os.environ, GNUPGHOME=str(home)),
                       timeout=30)


def test_a_webhook_that_never_answers_is_retried_then_dead_then_retried(fed, relay):
    n, shared = fed
    hooks = relay["hooks"]
    hooks.hang.set()
    n.cli("contact", "add", "--org", "eps", "--webhook", relay["hook_url"] + "/hang",
          "--secret-file", relay["secret"], "--data", n.data)
    ind = indicator(tlp=TLP_GREEN, value="10.70.7.7")
    n.post_ok(shared, [ind])

    def dead():
        return deliveries(n, "--failed", "--org", "eps")

    # two attempts (deliver-attempts 2), each timed out after 1 s
    wait_for(dead, timeout=30)
    d = dead()[0]
    assert d["attempts"] == 2 and "timed out" in d["error"].lower(), d
    assert d["ledger_event"] == 0
    # the node kept serving all along
    assert n.get(n.objects_path(shared) + ind["id"] + "/").status_code == 200
    printed = n.cli("notify", "deliveries", "--failed", "--data", n.data).stdout
    assert "dead" in printed and "/hang" in printed
    # the operator retries once the receiver is back: nothing was lost
    hooks.hang.clear()
    n.cli("notify", "retry", d["n"], "--data", n.data)
    wait_for(lambda: deliveries(n, "--org", "eps")[0]["status"] == "sent", timeout=15)
    got = [p for p in hooks.posts if p[0] == "/hang" and p[1]
           and any(o["id"] == ind["id"] for o in p[2]["objects"])]
    assert got and not dead()
    # every attempt is on record with its outcome
    tried = json.loads(n.cli("notify", "attempts", d["n"], "--json", "--data",
                             n.data).stdout)["attempts"]
    assert [a["outcome"] for a in tried] == ["failed, to be retried", "failed, given up", "sent"]
    assert "timed out" in tried[0]["error"].lower() and tried[2]["error"] == ""


def test_a_daily_digest_groups_by_asset_and_an_unreachable_relay_loses_nothing(
        tmp_path, meridian_bin, relay):
    n = start_node(meridian_bin, tmp_path / "digest")
    try:
        n.org("delta", "constituent")
        shared = n.collection(grants=(("own", True, True), ("delta", True, False)))
        n.cli("asset", "add", "--org", "delta", "10.50.0.0/16", "delta.example",
              "--data", n.data)
        n.cli("contact", "add", "--org", "delta", "--email", "soc@delta.example",
              "--schedule", "daily", "--data", n.data)
        n.post_ok(shared, [indicator(tlp=TLP_GREEN, value="10.50.1.1"),
                           indicator(tlp=TLP_GREEN, value="10.50.1.2"),
                           indicator(tlp=TLP_GREEN,
                                     pattern="[domain-name:value = 'www.delta.example']")])
        wait_for(lambda: len(json.loads(n.cli("notify", "list", "--json", "--data", n.data)
                                        .stdout)["notifications"]) == 3, timeout=15)
    finally:
        n.stop()
    good = write_conf(tmp_path / "good.conf", deliver_args(relay))
    down = write_conf(tmp_path / "down.conf", deliver_args(relay, relay_port=free_port()))
    # not due before midnight: nothing is sent
    p = n.cli("notify", "deliver", "--config", good, "--data", n.data)
    assert "sent 0" in p.stdout
    # the relay cannot be reached: a clear error, kept for a retry
    p = n.cli("notify", "deliver", "--flush", "--config", down, "--data", n.data, check=False)
    assert p.returncode == 1 and "failed 1" in p.stdout
    d = deliveries(n)[0]
    assert d["status"] == "queued" and d["attempts"] == 1
    assert "cannot connect" in d["error"] and "Connection refused" in d["error"]
    # retried once its back-off (deliver-backoff 1 s) has passed
    wait_for(lambda: "sent 1" in n.cli("notify", "deliver", "--config", good, "--data",
                                       n.data).stdout, timeout=15, step=0.3)
    assert deliveries(n)[0]["status"] == "sent" and deliveries(n)[0]["attempts"] == 2
    mails = relay["box"].to("soc@delta.example")
    assert len(mails) == 1
    summary = parts(mails[0][2])["text/plain"][0].decode()
    assert "(daily," in summary and "3 findings" in summary
    # grouped: each asset once, its findings under it
    assert summary.count("Asset 10.50.0.0/16") == 1 and summary.count("Asset delta.example") == 1
    block = summary.split("Asset 10.50.0.0/16")[1].split("Asset")[0]
    assert "10.50.1.1" in block and "10.50.1.2" in block
    bundle = json.loads(parts(mails[0][2])["application/stix+json"][0])
    assert len(bundle["objects"]) == 3


def test_an_https_webhook_is_verified_against_the_pinned_ca(meridian_bin, relay, tmp_path):
    """webhook-ca pins: a receiver whose certificate chains to it gets the
    POST; one with any other certificate gets nothing and the delivery
    fails naming the certificate."""
    import ssl
    good = Hooks()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(relay["cert"], relay["cert"].parent / "smtp-key.pem")
    good.socket = ctx.wrap_socket(good.socket, server_side=True)
    other_cert, other_key = make_cert(tmp_path)  # same name, another key: not the pinned CA
    bad = Hooks()
    ctx2 = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx2.load_cert_chain(other_cert, other_key)
    bad.socket = ctx2.wrap_socket(bad.socket, server_side=True)
    threads = [threading.Thread(target=h.serve_forever, daemon=True) for h in (good, bad)]
    for t in threads:
        t.start()
    n = start_node(meridian_bin, tmp_path / "node",
                   extra_args=[str(a) for a in deliver_args(relay, attempts=1)]
                   + ["--webhook-ca", str(relay["cert"])])
    try:
        n.org("zeta", "constituent")
        n.org("eta", "constituent")
        shared = n.collection(grants=(("own", True, True), ("zeta", True, False),
                                      ("eta", True, False)))
        n.cli("asset", "add", "--org", "zeta", "10.80.0.0/16", "--data", n.data)
        n.cli("asset", "add", "--org", "eta", "10.90.0.0/16", "--data", n.data)
        n.cli("contact", "add", "--org", "zeta", "--webhook",
              f"https://127.0.0.1:{good.server_address[1]}/tls", "--secret-file",
              relay["secret"], "--data", n.data)
        n.cli("contact", "add", "--org", "eta", "--webhook",
              f"https://127.0.0.1:{bad.server_address[1]}/tls", "--secret-file",
              relay["secret"], "--data", n.data)
        ind_z = indicator(tlp=TLP_GREEN, value="10.80.1.1")
        ind_e = indicator(tlp=TLP_GREEN, value="10.90.1.1")
        n.post_ok(shared, [ind_z, ind_e])
        wait_for(lambda: [d["status"] for d in deliveries(n, "--org", "zeta")] == ["sent"],
                 timeout=30)
        assert any(p[1] and any(o["id"] == ind_z["id"] for o in p[2]["objects"])
                   for p in good.posts)
        wait_for(lambda: deliveries(n, "--failed", "--org", "eta"), timeout=30)
        d = deliveries(n, "--failed", "--org", "eta")[0]
        assert "certificate" in d["error"].lower(), d
        assert bad.posts == []
    finally:
        n.stop()
        for h in (good, bad):
            h.shutdown()
            h.server_close()
