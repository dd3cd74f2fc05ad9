"""A table as a downloaded CSV or XLSX file (the XLSX with its definitions sheet, written by
:func:`callkpi.report.render.write_xlsx`): the page exports and the API's file formats."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from callkpi.report.render import to_csv, write_xlsx

FORMATS = ("csv", "xlsx")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def file_response(name: str, fmt: str, rows: Sequence[dict[str, Any]], columns: Sequence[str], *,
                  definitions: Sequence[dict[str, Any]], parameters: dict[str, Any]) -> Response:
    """``callkpi-<name>.csv`` or ``callkpi-<name>.xlsx`` as an attachment."""
    if fmt == "csv":
        return Response(
            to_csv(rows, columns),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="callkpi-{name}.csv"'},
        )
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="callkpi-")
    os.close(handle)
    write_xlsx(Path(path), rows, columns, definitions=definitions, parameters=parameters, sheet=name)
    return FileResponse(path, media_type=XLSX_MEDIA_TYPE, filename=f"callkpi-{name}.xlsx",
                        background=BackgroundTask(os.unlink, path))
