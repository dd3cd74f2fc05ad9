"""What every call importer does once its calls are rebuilt, inside its transaction."""

from __future__ import annotations

from callkpi.config import Settings
from callkpi.ingest import transcripts
from callkpi.ingest.business import attribution
from callkpi.metrics import rollup
from callkpi.storage import Store


def after_calls_changed(store: Store, settings: Settings) -> None:
    """Re-attribute deals, surveys, adherence and costs (and match transcripts) to the calls just (re)built, so that the
    order in which call files and business files are loaded never changes a KPI; then bring the
    KPI rollups up to date with the calls and agent time the import changed."""
    if attribution.has_business_data(store):
        attribution.refresh(store, settings)
    transcripts.relink(store, settings)
    rollup.refresh(store, settings)
