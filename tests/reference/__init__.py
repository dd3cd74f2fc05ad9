"""Reference computations for issue 12, independent of callkpi (plain csv/json, no callkpi import).

Each module reads a raw file of ``../shared/data/real`` and computes the figures a supervisor
would check by hand: calls by direction and outcome (answered by an agent, answered by the PBX
only, not answered), talk seconds, missed calls and callbacks. The rules are written in each
function's docstring with the document they come from:

- CDR-Spec  = Asterisk "CDR Specification" (docs.asterisk.org), summarised in docs/sources.md#asterisk-cdr
- QL-Spec   = Asterisk "Queue Logs" (https://docs.asterisk.org/Operation/Logging/Queue-Logs/),
  summarised in docs/sources.md#asterisk-queue-log
- formats   = docs/sources.md#export-formats and docs/formats.md
- metrics   = docs/metrics.md (the metric dictionary, generated from the registry)

``datasets.summary(name)`` is the entry point tests use; ``python -m tests.reference`` prints
every dataset's summary (run from the repository root).
"""
