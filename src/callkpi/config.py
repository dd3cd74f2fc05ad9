"""Settings: the business time zone and the metric parameters of the metric dictionary.

Defaults are those of docs/metrics.md. A TOML file (``callkpi.toml`` in the working directory,
or the file named by ``CALLKPI_CONFIG``) overrides them; ``--param NAME=VALUE`` on a command
overrides both.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

DEFAULT_CONFIG_FILE = "callkpi.toml"
DEFAULT_DB_FILE = "callkpi.duckdb"

ServiceLevelVariant = Literal["offered", "answered", "ignore_abandons_within_t", "abandons_positive"]


class MetricParams(BaseModel):
    """The parameters table of the metric dictionary, with its defaults."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    timezone: str = Field("UTC", description="business time zone for day and interval cuts")
    sl_threshold_s: float = Field(20, ge=0, description="T of service level, seconds")
    sl_variant: ServiceLevelVariant = Field("offered", description="service level denominator")
    short_abandon_s: float = Field(5, ge=0, description="abandons with wait below this are short; 0 disables")
    short_call_s: float = Field(10, ge=0, description="handled calls with talk below this are too short")
    long_call_s: float = Field(1200, ge=0, description="handled calls with talk above this are too long")
    fcr_window_h: float = Field(168, gt=0, description="repeat-call window for first-call resolution, hours")
    callback_window_h: float = Field(24, gt=0, description="how long after a missed call a callback counts")
    attribution_window_d: float = Field(30, gt=0, description="call to deal attribution window, days")
    contact_min_talk_s: float = Field(10, ge=0, description="answered outbound talk that makes a live contact")
    acw_pause_reasons: tuple[str, ...] = Field(
        ("ACW", "wrapup", "постобработка"), description="pause reasons that count as after-call work"
    )
    qa_pass_score: float = Field(80, ge=0, le=100, description="CQR at or above this is a good call")
    qa_sample_share: float = Field(0.30, gt=0, le=1, description="share of handled calls drawn for QA")
    interval_minutes: Literal[15, 30, 60] = Field(30, description="length of the `interval` dimension")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("interval_minutes", mode="before")
    @classmethod
    def _minutes_from_text(cls, value: object) -> object:
        # A Literal of ints takes no text: `--param interval_minutes=15` arrives as "15".
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value

    @field_validator("acw_pause_reasons", mode="before")
    @classmethod
    def _split_reasons(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def with_overrides(self, overrides: dict[str, object]) -> MetricParams:
        merged = self.model_dump()
        merged.update({key: value for key, value in overrides.items() if value is not None})
        return MetricParams.model_validate(merged)


class AgentNaming(BaseModel):
    """How agent channel names are turned into one agent id."""

    model_config = ConfigDict(extra="forbid")

    normalise_channels: bool = Field(
        True, description="Local/1127@ctx, SIP/1127-00ab, Agent/1127 are one agent `1127`"
    )
    aliases: dict[str, str] = Field(default_factory=dict, description="raw name -> agent id")
    crm_users: dict[str, str] = Field(
        default_factory=dict, description="CRM user name (the responsible user of a deal, e.g. \"Иванова Мария\") "
        "-> agent id; matched without case or surrounding spaces"
    )


class PhoneSettings(BaseModel):
    """How phone numbers are normalised before callbacks and repeat calls are matched."""

    model_config = ConfigDict(extra="forbid")

    country_code: str = Field("", pattern=r"^\d{0,3}$", description="e.g. 7 for Russia, 1 for NANP")
    national_prefix: str = Field("", pattern=r"^\d{0,2}$", description="trunk prefix, e.g. 8 in Russia")
    national_length: int = Field(10, ge=4, le=14, description="digits of a national number")
    dial_prefixes: list[Annotated[str, StringConstraints(pattern=r"^\d{1,12}$")]] = Field(
        default_factory=list,
        description="outbound dial prefixes (route or callback codes, e.g. 911911 then 044) stripped, in this order, "
        "from the start of a number when at least national_length digits remain",
    )
    mask_numbers: bool = Field(False, description="show numbers as +7 495 ***-**-67 in reports")


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    close_sessions_on_reload: bool = Field(
        False,
        description="CONFIGRELOAD ends open logins and pauses (Asterisk keeps members across reloads)",
    )
    earliest_year: int = Field(
        1980, ge=1970, le=2100, description="an event or call time before 1 January of this year is quarantined"
    )
    future_days: float = Field(
        2, ge=0, description="an event or call time more than this many days after the clock of the import "
        "is quarantined"
    )
    max_shift_h: float = Field(
        14, gt=0, le=168, description="a logged-in session longer than this many hours is reported as a finding "
        "(session_too_long): probably a missing logoff"
    )
    max_gap_days: float = Field(
        30, gt=0, description="times further than this from every other time of the same file (a gap of more "
        "days than this between them and the bulk of the file) are quarantined, not expanded into slices"
    )
    max_duration_s: float = Field(
        86400, gt=0, description="a wait, talk, ring or call duration above this many seconds is quarantined"
    )


class DirectionRules(BaseModel):
    """How CDR legs are told apart: which channels and contexts are trunks, which numbers are
    extensions. Applied to every row alike; nothing is guessed row by row."""

    model_config = ConfigDict(extra="forbid")

    trunk_contexts: tuple[str, ...] = Field(
        ("from-trunk*", "from-pstn*", "from-did*", "ext-did*", "from-external*", "*pstn*", "public",
         "incoming*", "inbound*"),
        description="dialplan contexts (glob patterns) where calls from outside arrive",
    )
    trunk_channels: tuple[str, ...] = Field(
        ("DAHDI/*", "Zap/*", "mISDN/*", "sofia/external/*", "sofia/gateway/*"),
        description="channel names (glob patterns) that are trunks; a SIP/PJSIP/IAX2 peer whose name "
        "is not extension-shaped is a trunk too",
    )
    extension_pattern: str = Field(
        r"\d{2,5}", description="regular expression an extension (internal number, phone peer) fully matches"
    )
    external_min_digits: int = Field(7, ge=3, le=15, description="a number with this many digits is external")

    @field_validator("extension_pattern")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"extension_pattern is not a regular expression: {exc}") from exc
        return value


class CdrSettings(BaseModel):
    """CDR-type sources: Asterisk CDR, FreeSWITCH CDR, cloud-PBX exports (``[cdr]`` in callkpi.toml)."""

    model_config = ConfigDict(extra="forbid")

    direction: DirectionRules = Field(default_factory=DirectionRules)
    dayfirst: bool = Field(
        True, description="01/02/2024 is 1 February (true) or 2 January (false); decided here, never guessed"
    )
    asterisk_columns: tuple[str, ...] = Field(
        (), description="column order of a headerless Asterisk CDR file (default: recognised by column count)"
    )
    freeswitch_template: str = Field(
        "example", description="mod_cdr_csv template the CSV was written with (stock: example, sql, snom, "
        "linksys, asterisk, opencdrrate)"
    )
    freeswitch_columns: tuple[str, ...] = Field(
        (), description="variable names of a custom mod_cdr_csv template, in order (overrides the template)"
    )
    campaign_field: str = Field("", description="CDR column that names the campaign, e.g. accountcode")
    mapping: str = Field(
        "", description="generic export mapping: a TOML/YAML file or a shipped name (twilio, bitrix24, ...); "
        "$CALLKPI_MAPPING overrides it"
    )


class AlertSettings(BaseModel):
    """When a KPI beyond its target's warning level is worth an alert, and where alerts go."""

    model_config = ConfigDict(extra="forbid")
    min_calls: int = Field(10, ge=0, description="calls offered in the window before an alert can fire")
    webhooks: tuple[str, ...] = Field((), description="URLs that get each fired/resolved alert as JSON (POST)")
    language: Literal["en", "ru"] = Field("en", description="language of the alert text")
    webhook_timeout_s: float = Field(5, gt=0, description="give up on a webhook after this many seconds")
    check_every_s: float = Field(60, ge=5, description="how often `callkpi serve` checks the alerts")
    live_within_h: float = Field(
        24, gt=0, description="data whose newest call is older than this many hours is history: alerts are checked "
        "as of the data's end (and say so) instead of now")


class TranscriptSettings(BaseModel):
    """Call transcripts and scripts (``[transcripts]`` in callkpi.toml)."""

    model_config = ConfigDict(extra="forbid")

    agent_channel: str = Field(
        "1", max_length=10, description="the audio channel (SpeechKit channelTag, VoiceKit channel) the agent "
        "speaks on; the other is the customer's (stereo recordings of a PBX put each party on its own channel)"
    )
    match_threshold: int = Field(
        85, ge=50, le=100, description="how close (0-100, rapidfuzz) the words said must be to a script phrase "
        "for the stage to count: lower finds more despite recognition errors, and more by mistake"
    )
    match_window_s: float = Field(
        300, gt=0, le=86400, description="a transcript that names no call or recording is matched to the call "
        "with its phone number that started nearest to its time, within this many seconds"
    )


class MoneySettings(BaseModel):
    """The currency of money values (``[money]`` in callkpi.toml)."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field(
        "", pattern=r"^([A-Z]{3})?$", description="ISO 4217 code (e.g. RUB) of amounts whose file names no "
        "currency; deals that say theirs (a currency column, 12 500 ₽, a header such as Бюджет, ₽) keep it, "
        "and amounts in different currencies are never added"
    )


class MailSettings(BaseModel):
    """How scheduled reports are e-mailed (``[mail]`` in callkpi.toml; `callkpi schedule`)."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("", description="SMTP server; empty: scheduled reports cannot be sent")
    port: int = Field(587, ge=1, le=65535, description="SMTP port (587 for STARTTLS, 465 for SSL, 25 plain)")
    security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="starttls: upgrade the connection; ssl: TLS from the start; none: plain "
        "(a local relay)")
    user: str = Field("", description="SMTP login; empty: no login")
    password_env: str = Field(
        "CALLKPI_SMTP_PASSWORD", description="name of the environment variable holding the SMTP password "
        "(the password itself is never written in the settings file)")
    sender: str = Field("callkpi@localhost", description="the From address")
    timeout_s: float = Field(30, gt=0, description="give up on the SMTP server after this many seconds")
    check_every_s: float = Field(60, ge=5, description="how often `callkpi serve` looks for due schedules")


class SqlSettings(BaseModel):
    """The PBX's SQL tables read from a dump file or a live server (``[sql]`` in callkpi.toml)."""

    model_config = ConfigDict(extra="forbid")
    cdr_table: str = Field("cdr", description="table of the CDR (FreePBX: asteriskcdrdb.cdr)")
    cel_table: str = Field("cel", description="table of the CEL (FreePBX: asteriskcdrdb.cel)")
    queue_log_table: str = Field("queue_log", description="realtime queue_log table")
    queue_log_aliases: tuple[str, ...] = Field(
        ("queuelog",), description="other names the queue_log table has in dump files (FreePBX: queuelog)")
    password: str = Field(
        "", description="password of the database user of live sources ($CALLKPI_DB_PASSWORD overrides it; "
        "PostgreSQL also reads ~/.pgpass); never on the command line")
    overlap_min: float = Field(
        10, ge=0, description="a live table is re-read from its last seen time minus this window, minutes "
        "(late rows); rows already read are recognised by their id")
    batch_rows: int = Field(5000, ge=100, description="rows of a live table read per batch")
    poll_s: float = Field(60, ge=5, description="how often `serve --watch` polls a live source, seconds")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    params: MetricParams = Field(default_factory=MetricParams)
    agents: AgentNaming = Field(default_factory=AgentNaming)
    phone: PhoneSettings = Field(default_factory=PhoneSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    cdr: CdrSettings = Field(default_factory=CdrSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    money: MoneySettings = Field(default_factory=MoneySettings)
    transcripts: TranscriptSettings = Field(default_factory=TranscriptSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    sql: SqlSettings = Field(default_factory=SqlSettings)


def effective_params(settings: Settings, store_timezone: str | None) -> MetricParams:
    """The settings' parameters; the store's time zone (set by `ingest --tz`) when the settings
    file names none."""
    params = settings.params
    if "timezone" not in params.model_fields_set and store_timezone:
        return params.with_overrides({"timezone": store_timezone})
    return params


def config_path() -> Path:
    return Path(os.environ.get("CALLKPI_CONFIG", DEFAULT_CONFIG_FILE))


def load_settings(path: Path | None = None) -> Settings:
    """Settings from the config file when it exists, defaults otherwise."""
    path = path or config_path()
    if not path.exists():
        return Settings()
    with path.open("rb") as handle:
        return Settings.model_validate(tomllib.load(handle))


def parse_param_overrides(pairs: list[str] | None) -> dict[str, object]:
    """``["sl_threshold_s=30", ...]`` -> ``{"sl_threshold_s": "30"}`` (pydantic coerces types)."""
    overrides: dict[str, object] = {}
    known = set(MetricParams.model_fields)
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--param expects NAME=VALUE, got {pair!r}")
        if name not in known:
            raise ValueError(f"unknown parameter {name!r}; known: {', '.join(sorted(known))}")
        overrides[name] = value.strip()
    return overrides


def default_db_path() -> Path:
    return Path(os.environ.get("CALLKPI_DB", DEFAULT_DB_FILE))
