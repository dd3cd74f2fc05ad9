"""Errors a listing raises about what it was asked; the surfaces turn them into 400, 403 and 404."""

from __future__ import annotations


class BadRequest(ValueError):
    """A request parameter that cannot be understood; the message says which and why."""


class Forbidden(Exception):
    """The user asked for data outside their scope."""


class NotFound(LookupError):
    """No such call, page or export."""
