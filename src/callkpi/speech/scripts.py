"""Call scripts: per call type (the QA scorecards' call types and the user's own), ordered stages with
example phrases, and phrases the agent must not say. Every change is a new version, as scorecards.

YAML layout (``callkpi scripts export`` writes it, ``callkpi scripts import`` reads it)::

    scripts:
      - call_type: qualification
        title: Qualification call
        title_ru: Квалификационный звонок
        queues: [sales]            # calls of these queues, campaigns or directions follow this script
        stages:
          - id: greeting
            title: Greeting with the company name
            title_ru: Приветствие с названием компании
            required: true
            phrases: [здравствуйте компания, добрый день меня зовут, good afternoon this is]
        forbidden: [не знаю, это не ко мне, конкурент]
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callkpi.storage import Store, first_row

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")


class ScriptError(ValueError):
    """A script (or its YAML) that cannot be used; the message says why."""


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str = ""
    title_ru: str = ""
    required: bool = True
    phrases: tuple[str, ...] = Field(min_length=1, max_length=100)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        value = value.strip().lower()
        if not ID_PATTERN.match(value):
            raise ValueError("id: lower-case letters, digits, - and _, at most 40 characters")
        return value

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(p.strip() for p in value if p.strip())
        if not cleaned or any(len(p) > 200 for p in cleaned):
            raise ValueError("phrases: at least one, each at most 200 characters")
        return cleaned


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_type: str
    title: str = ""
    title_ru: str = ""
    queues: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    stages: tuple[Stage, ...] = Field(min_length=1, max_length=30)
    forbidden: tuple[str, ...] = ()
    version: int | None = None

    @field_validator("call_type")
    @classmethod
    def _call_type(cls, value: str) -> str:
        value = value.strip().lower()
        if not ID_PATTERN.match(value):
            raise ValueError("call_type: lower-case letters, digits, - and _, at most 40 characters")
        return value

    @model_validator(mode="after")
    def _unique_stages(self) -> Script:
        ids = [s.id for s in self.stages]
        if len(set(ids)) != len(ids):
            raise ValueError("two stages have the same id")
        return self

    def matches(self, queue: str | None, campaign: str | None, direction: str | None) -> bool:
        return bool((queue and queue in self.queues) or (campaign and campaign in self.campaigns)
                    or (direction and direction in self.directions))

    def content(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"version"})


def parse_yaml(text: str) -> list[Script]:
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise ScriptError(f"not valid YAML: {exc}") from exc
    if isinstance(data, dict) and "scripts" in data:
        data = data["scripts"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise ScriptError("expected a list of scripts (a `scripts:` key)")
    scripts = []
    for index, item in enumerate(data, start=1):
        try:
            scripts.append(Script.model_validate(item))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ScriptError(f"script {index}: {problems}") from exc
    types = [s.call_type for s in scripts]
    if len(set(types)) != len(types):
        raise ScriptError("a call type appears twice")
    return scripts


def to_yaml(scripts: list[Script]) -> str:
    return yaml.safe_dump({"scripts": [s.content() for s in scripts]}, allow_unicode=True, sort_keys=False,
                          width=120)


def default_scripts() -> list[Script]:
    text = (resources.files("callkpi.speech") / "default_scripts.yaml").read_text(encoding="utf-8")
    return parse_yaml(text)


# -- the store ------------------------------------------------------------------------------


def save_script(store: Store, script: Script, user: str) -> int:
    """Store the script as a new version unless it equals the latest; the version in force."""
    latest = load_script(store, script.call_type)
    if latest is not None and latest.content() == script.content():
        return int(latest.version or 0)
    version = (latest.version or 0) + 1 if latest else 1
    store.execute(
        "INSERT INTO speech_scripts VALUES (?, ?, ?, ?, ?)",
        [script.call_type, version, user, datetime.now(UTC).replace(tzinfo=None),
         json.dumps(script.content(), ensure_ascii=False)])
    return version


def load_script(store: Store, call_type: str) -> Script | None:
    row = first_row(store.fetch_all(
        "SELECT version, content FROM speech_scripts WHERE call_type = ? ORDER BY version DESC LIMIT 1",
        [call_type]))
    if row is None:
        return None
    return Script.model_validate({**json.loads(row[1]), "version": int(row[0])})


def list_scripts(store: Store) -> list[Script]:
    types = [r[0] for r in store.fetch_all(
        "SELECT DISTINCT call_type FROM speech_scripts ORDER BY call_type")]
    return [s for t in types if (s := load_script(store, t)) is not None]


def scripts_in_force(store: Store) -> list[Script]:
    """The stored scripts, or the shipped defaults while none is stored."""
    return list_scripts(store) or default_scripts()


def script_for(scripts: list[Script], call_type: str | None, queue: str | None, campaign: str | None,
               direction: str | None) -> Script | None:
    """The script of a call: the call type its transcript names, else the first script whose queues,
    campaigns or directions take the call."""
    if call_type:
        return next((s for s in scripts if s.call_type == call_type.strip().lower()), None)
    return next((s for s in scripts if s.matches(queue, campaign, direction)), None)


def import_scripts(store: Store, text: str, user: str) -> dict[str, int]:
    """Save every script of a YAML text; call type -> version in force (the caller re-checks the
    transcripts, in the same transaction)."""
    return {script.call_type: save_script(store, script, user) for script in parse_yaml(text)}
