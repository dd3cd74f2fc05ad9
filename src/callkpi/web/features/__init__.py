"""The dashboard by feature: each module holds its pages, routes and table builders.

The web core beside this package: app, db, security, auth, scope, i18n, ui, kpi, tables, watch, api.
"""
