"""A discrete-event simulator of a sales contact centre that writes the records real systems
write (Asterisk queue_log and Master.csv, CRM deals, surveys, QA scorecards, staff, costs) plus
the ground truth behind them. See :mod:`callkpi.simulate.writers` for every file and column.

    from callkpi.simulate import Scenario, simulate
    result = simulate(Scenario.load().with_overrides(days=7), Path("out"))
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from callkpi.simulate.engine import Simulation, SimulationResult, Totals
from callkpi.simulate.scenario import Scenario


def simulate(
    scenario: Scenario,
    out_dir: Path,
    on_day: Callable[[int, Totals], None] | None = None,
    parallel: bool | None = None,
) -> SimulationResult:
    """Run a scenario and write its files into `out_dir` (`parallel`: see `Simulation`)."""
    return Simulation(scenario, out_dir, on_day, parallel).run()


__all__ = ["Scenario", "Simulation", "SimulationResult", "Totals", "simulate"]
