"""Data access: every query a listing, an analysis or a surface needs, one module per domain.

Surfaces (``cli/``, ``web/``) hold no SQL and name no table; they call the named functions here.
"""
