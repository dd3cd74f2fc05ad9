"""Conformance (issue 16) over a small simulated centre (every file the simulator writes): every
metric the same on DuckDB and ClickHouse (chDB) by every dimension, with filters, dates and
parameter variants (tests/test_engine_conformance.py says how; a file per dataset so that the
test workers share them out). Skipped without chdb."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("chdb")

from test_engine_conformance import VARIANTS, check_both_engines, open_stores

DATASET = "simulated"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    yield from open_stores(tmp_path_factory.mktemp("conformance"), (DATASET,))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_metric_is_the_same_on_both_engines(stores: dict, variant: str) -> None:
    check_both_engines(stores, DATASET, variant)
