from callkpi.storage.store import Store, first_row

__all__ = ["Store", "first_row"]
