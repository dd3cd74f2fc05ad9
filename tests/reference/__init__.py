"""Reference computations for issue 12, independent of callkpi (plain csv/json, no callkpi import).

Each module reads a raw file of ``../shared/data/real`` and computes the figures a supervisor
would check by hand: calls by direction and outcome (answered by an agent, answered by the PBX
only, not answered), talk seconds, missed calls and callbacks. The rules are written in each
function's docstring with the document they come from:

- CDR-Spec  = ../shared/reference/asterisk/CDR-Specification.md
- QL-Spec   = ../shared/reference/asterisk/Queue-Logs.md
- formats   = ../shared/reference/formats.md
- metrics   = ../shared/reference/metrics.md (the metric dictionary)

``datasets.summary(name)`` is the entry point tests use; ``python -m tests.reference`` prints
every dataset's summary (run from the repository root).
"""
