"""Every KPI callkpi computes, defined once (docs/metrics.md is generated from this package).

Definitions follow the metric dictionary (docs/metrics.md); where the industry disagrees the variant
is a named parameter. Each module registers its facts, measures and metrics into the one registry
of :mod:`callkpi.metrics.catalogue._build`; the order below is the order of docs/metrics.md.
"""

from __future__ import annotations

# isort: off
# Registration order is the order of docs/metrics.md (and facts come before their measures).
from callkpi.metrics.catalogue import facts, queue, handling, calls, outbound, business, qa, speech  # noqa: F401
# isort: on
from callkpi.metrics.catalogue._build import REGISTRY
from callkpi.metrics.catalogue.dimensions import DIMENSIONS

REGISTRY.write_formulas()

__all__ = ["DIMENSIONS", "REGISTRY"]
