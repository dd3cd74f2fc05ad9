"""callkpi: phone-team KPIs from the records phone systems and CRMs already write."""

__version__ = "0.1.0"
