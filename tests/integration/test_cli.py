"""The verb table: help, usage errors, exit codes."""
from conftest import run


def test_help_lists_verbs(meridian_bin):
    p = run(meridian_bin, "help")
    assert p.returncode == 0
    assert "version" in p.stdout


def test_help_verb_prints_usage(meridian_bin):
    p = run(meridian_bin, "help", "version")
    assert p.returncode == 0
    assert p.stdout.startswith("usage: meridian version")


def test_unknown_verb_is_usage_error(meridian_bin):
    p = run(meridian_bin, "frobnicate")
    assert p.returncode == 2
    assert "no verb named 'frobnicate'" in p.stderr


def test_no_args_is_usage_error(meridian_bin):
    p = run(meridian_bin)
    assert p.returncode == 2
    assert "usage:" in p.stderr


def test_version(meridian_bin):
    p = run(meridian_bin, "version")
    assert p.returncode == 0
    assert p.stdout.startswith("meridian ")
