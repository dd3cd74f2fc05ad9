"""Ingestion: one module per source format, each mapping into the canonical model."""
