"""Analyses built on the metric registry: training effect, agent scorecard, alerts.

They read KPIs through :mod:`callkpi.metrics` and rows through :mod:`callkpi.queries`; the
surfaces (CLI, web, API, exports) call them and only format what they return.
"""
