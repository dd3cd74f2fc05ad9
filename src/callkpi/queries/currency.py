"""The currency money values are shown in: the one the loaded deals name, else the ``[money] currency``
setting. Amounts in different currencies are never added (revenue over mixed currencies is null), so
a store whose deals name several currencies has no single currency to show."""

from __future__ import annotations

from callkpi.storage import Store


def deal_currencies(store: Store) -> list[str]:
    """The currencies the loaded deals name, sorted (none when no deals are loaded)."""
    if not store.has_table("deals"):
        return []
    rows = store.fetch_all("SELECT DISTINCT currency FROM deals WHERE currency IS NOT NULL ORDER BY currency")
    return [row[0] for row in rows]


def money_currency(store: Store, setting: str = "") -> str | None:
    """The currency of the store's money values: the deals' one currency, else the setting (None when
    the deals name several: mixed currencies, or when nothing names one)."""
    named = deal_currencies(store)
    if len(named) > 1:
        return None
    return named[0] if named else (setting or None)


def with_currency(text: str, currency: str | None) -> str:
    """A formatted amount followed by its currency code (``37 000.0 RUB``); unchanged for "—" or no currency."""
    return text if not currency or text == "—" else f"{text} {currency}"
