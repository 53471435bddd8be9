"""The `lsrif` command: every subcommand registered, and no parser of it matches abbreviated options."""

import argparse

from lsrif_trl.cli import build_parser


def all_parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from all_parsers(sub)


def test_no_parser_of_the_command_takes_abbreviations():
    parsers = list(all_parsers(build_parser()))
    assert len(parsers) > 10  # lsrif, config, score, data, eval, ... and their subcommands
    assert [p.prog for p in parsers if p.allow_abbrev] == []
