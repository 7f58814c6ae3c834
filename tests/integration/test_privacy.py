"""`meridian privacy pseudonymise`: Crypto-PAn through the real binary.

The reference implementation's sample (tests/data/cryptopan/) both ways, the
prefix-preservation property over many addresses, and clear errors for bad
key files and bad lines."""
import ipaddress
import random

from conftest import data_file, run

KEY = data_file("cryptopan/sample.key")


def lines(path):
    return path.read_text().splitlines()


def pseudonymise(meridian_bin, text, *extra, key=KEY):
    return run(meridian_bin, "privacy", "pseudonymise", "--key-file", key, *extra, input=text)


def test_reference_sample_ipv4_both_ways(meridian_bin):
    raw = lines(data_file("cryptopan/sample-raw.txt"))
    san = lines(data_file("cryptopan/sample-sanitized.txt"))
    assert len(raw) == len(san) == 70
    p = pseudonymise(meridian_bin, "\n".join(raw) + "\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == san
    p = pseudonymise(meridian_bin, "\n".join(san) + "\n", "--reverse")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == raw


def test_ipv6_both_ways(meridian_bin):
    raw = lines(data_file("cryptopan/ipv6-raw.txt"))
    san = lines(data_file("cryptopan/ipv6-sanitized.txt"))
    p = pseudonymise(meridian_bin, "\r\n".join(raw))  # CRLF, no final newline
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == san
    p = pseudonymise(meridian_bin, "\n".join(san), "--reverse")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == raw


def common_prefix(a, b, bits):
    x = int(a) ^ int(b)
    return bits - x.bit_length()


def test_prefix_preserved(meridian_bin, tmp_path):
    """For pairs sharing exactly k leading bits (every k, both families),
    the pseudonyms share exactly k bits, and --reverse gives the inputs back."""
    rng = random.Random(15)
    key = tmp_path / "k.key"
    key.write_text("".join(rng.choice("0123456789abcdef") for _ in range(64)) + "\n")
    addrs, expect = [], []
    for bits, cls in ((32, ipaddress.IPv4Address), (128, ipaddress.IPv6Address)):
        for k in range(bits + 1):
            x = rng.getrandbits(bits)
            y = x ^ (1 << (bits - 1 - k)) if k < bits else x
            addrs += [cls(x), cls(y)]
            expect.append((k, bits))
    p = pseudonymise(meridian_bin, "".join(f"{a}\n" for a in addrs), key=key)
    assert p.returncode == 0, p.stderr
    out = [ipaddress.ip_address(s) for s in p.stdout.splitlines()]
    assert len(out) == len(addrs)
    for i, (k, bits) in enumerate(expect):
        a, b = addrs[2 * i], addrs[2 * i + 1]
        assert common_prefix(a, b, bits) == k
        assert common_prefix(out[2 * i], out[2 * i + 1], bits) == k, (a, b)
        assert out[2 * i].version == a.version
    back = pseudonymise(meridian_bin, p.stdout, "--reverse", key=key)
    assert back.returncode == 0, back.stderr
    assert [ipaddress.ip_address(s) for s in back.stdout.splitlines()] == addrs


def test_bad_line_is_named_and_escaped(meridian_bin):
    p = pseudonymise(meridian_bin, "128.11.68.132\n129.118.74.4\n10.0.0.\x1b[31m1\n4.3.88.225\n")
    assert p.returncode == 1
    assert p.stdout.splitlines() == ["135.242.180.132", "134.136.186.123"]
    assert "stdin line 3" in p.stderr
    assert "\x1b" not in p.stderr
    assert "\\x1B" in p.stderr or "\\x1b" in p.stderr


def test_nul_empty_and_long_lines(meridian_bin):
    p = pseudonymise(meridian_bin, "1.2.3.4\n1.2.3\x004\n")
    assert p.returncode == 1 and "stdin line 2" in p.stderr and "NUL" in p.stderr
    p = pseudonymise(meridian_bin, "1.2.3.4\n\n")
    assert p.returncode == 1 and "stdin line 2: empty line" in p.stderr
    p = pseudonymise(meridian_bin, "1" * 5000 + "\n")
    assert p.returncode == 1 and "stdin line 1: longer than 64 bytes" in p.stderr
    p = pseudonymise(meridian_bin, "10.0.0.0/8\n")
    assert p.returncode == 1 and "'10.0.0.0/8' is not an IPv4 address" in p.stderr


def test_bad_key_files(meridian_bin, tmp_path):
    short = tmp_path / "short.key"
    short.write_text("00" * 31 + "\n")
    p = pseudonymise(meridian_bin, "1.2.3.4\n", key=short)
    assert p.returncode == 1 and p.stdout == ""
    assert "62 hex digits, expected 64" in p.stderr and str(short) in p.stderr

    bad = tmp_path / "bad.key"
    bad.write_text("00" * 5 + "\x1b]0;x\x07" + "00" * 26)
    p = pseudonymise(meridian_bin, "1.2.3.4\n", key=bad)
    assert p.returncode == 1 and "offset 10: expected a hex digit" in p.stderr
    assert "\x1b" not in p.stderr and "\x07" not in p.stderr

    big = tmp_path / "big.key"
    big.write_text("00" * 1000)
    p = pseudonymise(meridian_bin, "1.2.3.4\n", key=big)
    assert p.returncode == 1 and "more than 128 bytes" in p.stderr

    p = pseudonymise(meridian_bin, "1.2.3.4\n", key=tmp_path / "absent.key")
    assert p.returncode == 2 and "absent.key" in p.stderr


def test_usage(meridian_bin):
    p = run(meridian_bin, "privacy", "pseudonymise")
    assert p.returncode == 2 and "--key-file" in p.stderr
    p = run(meridian_bin, "privacy", "frobnicate")
    assert p.returncode == 2 and "unknown subcommand" in p.stderr
    p = run(meridian_bin, "help", "privacy")
    assert p.returncode == 0 and "pseudonymise --key-file FILE [--reverse]" in p.stdout
