"""Every option of every subcommand explains itself in --help, and shows a default only when it has one."""

import argparse

import pytest

from nnkit import cli

PARSER = cli.build_parser()
SUBCOMMANDS = next(a for a in PARSER._actions if isinstance(a, argparse._SubParsersAction)).choices


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_option_has_help_and_no_empty_default(name):
    sub = SUBCOMMANDS[name]
    for action in sub._actions:
        if action.option_strings and action.help != argparse.SUPPRESS:
            assert action.help, f"nnkit {name} {action.option_strings[0]} has no help"
    text = sub.format_help()
    assert "(default: None)" not in text and "(default: False)" not in text


def test_train_help_shows_real_defaults():
    text = " ".join(SUBCOMMANDS["train"].format_help().split())
    for shown in ("(default: adam)", "(default: 0)", "(default: 0.0)", "(default: 128)"):
        assert shown in text
    assert "default float32, float64 with --backend blas" in text  # --dtype: a default that depends on --backend


def test_train_plots_says_where_the_figures_went(tmp_path, capsys):
    folder = tmp_path / "figures here"
    assert cli.main(["train", "--epochs", "1", "--hidden", "8", "--plots", str(folder)]) == 0
    out = capsys.readouterr().out
    written = sorted(p.name for p in folder.iterdir())
    assert f"figures in {folder}: " in out and all(name in out for name in written) and len(written) == 4
