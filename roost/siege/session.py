"""A run as the command line sees it: load, run, write report.json and chart.png, print the table.

Known failures (bad scenario, refused target, dead server, missing API) become one clear line
on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console

from roost.siege import chart, report
from roost.siege.accounts import SetupError
from roost.siege.guard import GuardError
from roost.siege.interrupts import Interrupts
from roost.siege.outcome import RunOptions
from roost.siege.runner import output_dir, run
from roost.siege.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["RunOptions", "load", "run_and_report", "run_loaded"]


def load(path: Path) -> Scenario:
    try:
        return load_scenario(path)
    except ScenarioError as error:
        raise click.ClickException(str(error)) from None


def run_and_report(path: Path, options: RunOptions, out_dir: Path) -> dict[str, Any]:
    return run_loaded(load(path), options, out_dir)


class NotStarted(click.ClickException):
    """Ctrl-C before the attack started: nothing was measured, so there is no report."""

    exit_code = 130


def run_loaded(scenario: Scenario, options: RunOptions, out_dir: Path) -> dict[str, Any]:
    """Run and write everything; the report is written for interrupted runs too.

    From the attack's start until report.json, the chart and the table are out, Ctrl-C cannot
    lose them: a second one is logged and ignored (interrupts.py).
    """
    console = Console(width=None if Console().is_terminal else 160)
    with Interrupts() as interrupts:
        try:
            outcome = run(scenario, options, interrupts)
        except (GuardError, SetupError, ValueError) as error:
            raise click.ClickException(str(error)) from None
        except KeyboardInterrupt:  # during setup: no traffic yet, so no report either
            raise NotStarted("interrupted before the attack started; no report") from None
        interrupts.hold()  # a Ctrl-C that came after the attack ended is ignored too
        built = report.build(outcome)
        directory = output_dir(out_dir, scenario, options.label)
        json_path = report.write_json(built, directory)
        chart_path = chart.draw(built, directory / "chart.png")
        report.render(built, console)
        console.print(f"report: {json_path}\nchart:  {chart_path}")
    return built
