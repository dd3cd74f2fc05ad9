"""Writing day d while day d + 1 is simulated.

Formatting text (Arrow), compressing (zlib) and writing files is most of the work. For large
runs a worker *process* does it, so it runs on the second core without contending for the GIL;
small runs use a worker thread and skip the cost of starting a process. Both run the same
`DayWriter`, so the bytes are the same either way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callkpi.simulate import business, records
from callkpi.simulate.clock import LocalClock
from callkpi.simulate.model import AgentTime, Day, Directory
from callkpi.simulate.scenario import Scenario
from callkpi.simulate.staff import StaffPlan
from callkpi.simulate.writers import OutputSet

STREAM_BUSINESS = 7  # the random stream of deals, surveys and QA (see engine.STREAM_*)
STREAM_SPEECH = 8  # the call types of the transcripts (their words come from a seeded random.Random)
PROCESS_THRESHOLD_CALLS = 300_000  # expected inbound calls from which a worker process pays off


@dataclass
class WriterReport:
    queue_log_lines: int
    cdr_rows: int
    business: dict[str, int]
    truth: dict[str, object]


class DayWriter:
    """Everything that turns simulated days into files."""

    def __init__(self, scenario: Scenario, plan: StaffPlan, out_dir: Path) -> None:
        self.scenario = scenario
        clock = LocalClock(scenario.zone, scenario.start_epoch, scenario.end_epoch)
        directory = Directory.build(scenario, plan.agents)
        self.out = OutputSet(out_dir)
        try:
            self.records = records.RecordWriter(scenario, directory, clock, self.out)
            self.business = business.BusinessWriter(scenario, plan, directory, clock, self.out)
            self.records.write_queue_start()
            self.business.write_static_files()
        except BaseException:
            self.out.close()
            raise

    def write(self, day: Day) -> None:
        self.records.write_day(day)
        self.business.write_day(day, np.random.default_rng([self.scenario.seed, STREAM_BUSINESS, day.index]),
                                np.random.default_rng([self.scenario.seed, STREAM_SPEECH, day.index]))
        self.out.flush(records.line_key_floor(day.end_epoch, self.scenario.start_epoch))

    def finish(self, tail: AgentTime) -> WriterReport:
        try:
            self.records.write_agent_time(tail)
        finally:
            self.out.close()
            if self.business.transcripts is not None:
                self.business.transcripts.close()
        return WriterReport(self.out.queue_log.lines_written, self.out.cdr.lines_written, self.business.counts(),
                            self.business.truth_summary())

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.out.close()
        with contextlib.suppress(Exception):
            if self.business.transcripts is not None:
                self.business.transcripts.close()


# one DayWriter per worker process
_process_writer: DayWriter | None = None


def _process_start(scenario: Scenario, plan: StaffPlan, out_dir: Path) -> None:
    global _process_writer
    _process_writer = DayWriter(scenario, plan, out_dir)


def _process_write(day: Day) -> None:
    assert _process_writer is not None
    _process_writer.write(day)


def _process_finish(tail: AgentTime) -> WriterReport:
    assert _process_writer is not None
    return _process_writer.finish(tail)


def _process_abort() -> None:
    if _process_writer is not None:
        _process_writer.abort()


class WriterPipeline:
    """At most one day in flight: submitting day d + 1 waits until day d is written."""

    def __init__(self, scenario: Scenario, plan: StaffPlan, out_dir: Path, use_process: bool) -> None:
        self._pool: Executor
        self._pending: Future[None] | None = None
        if use_process:
            # spawn, not fork: the parent may run threads (progress display) that fork would not copy
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_process_start, initargs=(scenario, plan, out_dir))
            self._write, self._finish, self._abort = _process_write, _process_finish, _process_abort
        else:
            writer = DayWriter(scenario, plan, out_dir)
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulate-write")
            self._write, self._finish, self._abort = writer.write, writer.finish, writer.abort

    def submit(self, day: Day) -> None:
        if self._pending is not None:
            self._pending.result()
        self._pending = self._pool.submit(self._write, day)

    def finish(self, tail: AgentTime) -> WriterReport:
        try:
            if self._pending is not None:
                self._pending.result()
            return self._pool.submit(self._finish, tail).result()
        finally:
            self._pool.shutdown(wait=True)

    def abort(self) -> None:
        """Close the files after a failure (the first error is the one worth reporting)."""
        with contextlib.suppress(Exception):
            self._pool.submit(self._abort).result()
        self._pool.shutdown(wait=True, cancel_futures=True)
