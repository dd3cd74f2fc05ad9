"""Option values converted without a pydantic schema per option.

Typer (0.29) checks every parameter's value through a pydantic ``TypeAdapter`` it builds on the
parameter's first use: for a command with twenty options that is pydantic's import plus twenty
schemas, a fifth of a second before the command starts. callkpi's options are plain text, whole and
decimal numbers without bounds, paths and lists of those; they are converted here the way Typer's
adapters convert them (paths by Typer's own path check). Anything else, and any value refused
here, goes to Typer's adapter, so what is accepted and the messages stay Typer's.

:func:`install` is a no-op when Typer's internals are not the ones this was written against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(value)


def _whole(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise ValueError(value)  # pydantic's reading (and its message) decides


def _decimal(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return float(value)
    raise ValueError(value)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(value)  # "yes", "0"...: pydantic's reading


_PLAIN: dict[Any, Callable[[Any], Any]] = {str: _text, int: _whole, float: _decimal, bool: _flag}


def install() -> bool:
    """Make Typer's parameters convert plain values here; False when Typer's internals differ."""
    try:
        from typer import _coercion
        from typer._param_types import coerce_cli_path, routes_to_path
        from typer.core import _TyperParameter
    except ImportError:
        return False
    base = getattr(_coercion, "RuntimeParam", None)
    build = getattr(_coercion, "build_runtime_param", None)
    if base is None or build is None or not hasattr(_TyperParameter, "get_runtime_param"):
        return False

    @dataclass(frozen=True)
    class PlainRuntimeParam(base):  # type: ignore[misc, valid-type]
        convert: Callable[[Any], Any]
        many: bool
        descriptor: Any

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                if self.many and isinstance(value, list | tuple):
                    return [self._one(item, param, ctx) for item in value]
                return self._one(value, param, ctx)
            except (TypeError, ValueError):
                return build(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

        def _one(self, value: Any, param: Any, ctx: Any) -> Any:
            if self.convert is Path:
                if isinstance(value, str) and value:
                    value = Path(value)  # what pydantic makes of text, without its schema
                elif not isinstance(value, Path):
                    raise TypeError(value)
                return coerce_cli_path(value, self.parameter_info, path_type=Path, param=param, ctx=ctx)
            return self.convert(value)

    def plain(descriptor: Any) -> Any | None:
        info = descriptor.parameter_info
        if descriptor.file_annotation is not None or getattr(info, "parser", None) is not None \
                or getattr(info, "click_type", None) is not None:
            return None
        annotation = descriptor.annotation
        many = get_origin(annotation) is list
        if many:
            (annotation,) = get_args(annotation) or (None,)
        if annotation is Path and routes_to_path(annotation, info) and info.path_type is None:
            convert: Callable[[Any], Any] = Path
        elif annotation in _PLAIN and (annotation in (str, bool) or (info.min is None and info.max is None)):
            convert = _PLAIN[annotation]
        else:
            return None
        return PlainRuntimeParam(parameter_info=info, annotation=descriptor.annotation, convert=convert, many=many,
                                 descriptor=descriptor)

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            self._runtime_param = plain(self.type_descriptor) or build(self.type_descriptor)
        return self._runtime_param

    _TyperParameter.get_runtime_param = get_runtime_param
    return True
