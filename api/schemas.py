"""Every request and response body of the API, as marshmallow schemas. The OpenAPI document is
generated from these, and responses are dumped through them, so the spec is what is served."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from factstore.domain.articles import MAX_OUTLET, MAX_TITLE, MAX_URL
from factstore.ingest.sources_config import MAX_URLS, SCHEDULE_PATTERN, SOURCE_ID, URL_PATTERN
from factstore.projections.queries import MAX_POSITION, parse_timestamp
from factstore.whole_numbers import parse_whole_number

MAX_PAGE = 1000


# No database text type stores NUL, and no article needs it.
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")


def _text(min_length: int, max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=min_length, max=max_length), NO_NUL], **kwargs
    )


class StrictSchema(Schema):
    """Unknown fields are an error (422), never silently dropped."""

    class Meta:
        unknown = RAISE


class Figure(fields.Float):
    """A number that prints as an integer when it is one (1321, not 1321.0)."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        number = super()._serialize(value, attr, obj, **kwargs)
        if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
            return int(number)
        return number


def _nullable_str(**kwargs: Any) -> fields.String:
    return fields.String(allow_none=True, **kwargs)


def _nullable_number() -> Figure:
    return Figure(allow_none=True)


# --- requests ----------------------------------------------------------------------------------


class ArticleInSchema(StrictSchema):
    text = _text(1, 2_000_000, required=True)
    title = _text(0, MAX_TITLE, allow_none=True)
    outlet = _text(0, MAX_OUTLET, allow_none=True)
    published_at = fields.Date(allow_none=True, metadata={"description": "ISO 8601 date"})
    url = _text(0, MAX_URL, allow_none=True)
    source_id = _text(
        1,
        200,
        allow_none=True,
        metadata={"description": "The article's stable id at its source (else the URL is used)"},
    )


class RankInSchema(StrictSchema):
    rank = fields.String(
        required=True, validate=validate.OneOf(["preferred", "normal", "deprecated"])
    )
    reason = _text(1, 2000, required=True)


class RetractInSchema(StrictSchema):
    reason = _text(1, 2000, required=True)


class ReadArgsSchema(StrictSchema):
    """What every read takes: how fresh the answer must be (api.consistency)."""

    min_position = fields.Integer(
        validate=validate.Range(min=0, max=2**62),
        metadata={
            "description": "Answer only once the store reflects at least this log position (a "
            "write's `Factstore-Position`): read-your-writes across replicas; 503 if it is not "
            "reached in time"
        },
    )


class PageArgsSchema(ReadArgsSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**9))


class ArticleListArgsSchema(PageArgsSchema):
    outlet = fields.String(validate=validate.Length(max=200))
    published_from = fields.Date(metadata={"description": "ISO date, inclusive"})
    published_to = fields.Date(metadata={"description": "ISO date, inclusive"})


class KnownAt(fields.Field):
    """Transaction time: a log position, or a timestamp that means the last position by then."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        text = str(value)
        position = parse_whole_number(text)
        if position is not None:
            # Positions past the head mean "now"; clamp what no log will ever reach.
            return min(position, MAX_POSITION)
        moment = parse_timestamp(text) if len(text) <= 64 else None
        if moment is None:
            raise ValidationError("expected a log position or an ISO 8601 timestamp")
        return moment


def _known_at() -> KnownAt:
    return KnownAt(
        metadata={
            "description": "Transaction time: a log position or an ISO 8601 timestamp",
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "format": "date-time"},
            ],
        }
    )


class AsOfArgsSchema(ReadArgsSchema):
    known_at = _known_at()
    valid_at = fields.Date(metadata={"description": "Valid time: an ISO 8601 date"})


class TopicListArgsSchema(PageArgsSchema, AsOfArgsSchema):
    measure = fields.String(validate=validate.Length(max=60))
    subject = fields.String(validate=validate.Length(max=60))
    place = fields.String(validate=validate.Length(max=120))
    q = fields.String(
        validate=validate.Length(max=200), metadata={"description": "Text in the topic key"}
    )
    sort = fields.String(
        load_default="topic",
        validate=validate.OneOf(
            [
                "topic",
                "-topic",
                "value",
                "-value",
                "as_of",
                "-as_of",
                "sources",
                "-sources",
                "updated",
                "-updated",
            ]
        ),
    )


class HistoryArgsSchema(ReadArgsSchema):
    known_at = _known_at()


class EventsArgsSchema(ReadArgsSchema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**62))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE))


class StreamEventsArgsSchema(ReadArgsSchema):
    # An empty range (to_version below from_version) is valid and returns no events.
    from_version = fields.Integer(load_default=1, validate=validate.Range(min=1, max=2**31))
    to_version = fields.Integer(validate=validate.Range(min=1, max=2**31))


# --- responses ---------------------------------------------------------------------------------


class EventSchema(Schema):
    event_id = fields.UUID(required=True)
    stream_id = fields.String(required=True)
    version = fields.Integer(required=True)
    position = fields.Integer(required=True)
    type = fields.String(required=True)
    schema_version = fields.Integer(required=True)
    data = fields.Dict(required=True)
    metadata = fields.Dict(required=True)
    recorded_at = fields.String(required=True, metadata={"format": "date-time"})
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)
    log_hash = fields.String(required=True)


class EventPageSchema(Schema):
    items = fields.List(fields.Nested(EventSchema), required=True)
    next_after = fields.Integer(required=True, metadata={"description": "Cursor for the next page"})
    head_position = fields.Integer(required=True)


class StreamSchema(Schema):
    stream_id = fields.String(required=True)
    version = fields.Integer(required=True)
    verified = fields.Boolean(
        required=True, metadata={"description": "The stream's hash chain holds"}
    )
    items = fields.List(fields.Nested(EventSchema), required=True)


class ArticleRefSchema(Schema):
    stream_id = fields.String(required=True)
    article_id = fields.String(required=True)
    title = _nullable_str()
    outlet = _nullable_str()
    url = _nullable_str()
    published_at = _nullable_str()


class ClaimSchema(Schema):
    claim_id = fields.String(required=True)
    topic = fields.String(required=True)
    status = fields.String(required=True)
    value = Figure(required=True)
    lower = _nullable_number()
    upper = _nullable_number()
    qualifier = fields.String(required=True)
    unit = fields.String(required=True)
    stated_unit = _nullable_str()
    measure = fields.String(required=True)
    subject = fields.String(required=True)
    place = _nullable_str()
    kind = fields.String(required=True)
    as_of = _nullable_str()
    as_of_inferred = fields.Boolean(allow_none=True)
    valid_from = _nullable_str()
    attributed_to = _nullable_str()
    quote = _nullable_str()
    sentence = _nullable_str()
    start = fields.Integer(allow_none=True)
    end = fields.Integer(allow_none=True)
    rule = _nullable_str(metadata={"description": "The extraction rule that produced the claim"})
    extractor_version = _nullable_str()
    article = fields.Nested(ArticleRefSchema, required=True)
    position = fields.Integer(required=True, metadata={"description": "Log position asserting it"})
    recorded_at = fields.String(required=True)


class StatusChangeSchema(Schema):
    status = fields.String(required=True)
    event_type = fields.String(required=True)
    reason = _nullable_str()
    actor = _nullable_str()
    position = fields.Integer(required=True)
    recorded_at = fields.String(required=True)


class ClaimDetailSchema(ClaimSchema):
    status_history = fields.List(fields.Nested(StatusChangeSchema), required=True)


class ClaimPageSchema(Schema):
    items = fields.List(fields.Nested(ClaimSchema), required=True)
    total = fields.Integer(required=True)


class FigureSummarySchema(Schema):
    claim_id = _nullable_str()
    value = _nullable_number()
    lower = _nullable_number()
    upper = _nullable_number()
    qualifier = _nullable_str()
    unit = _nullable_str()
    as_of = _nullable_str()
    low = _nullable_number()
    high = _nullable_number()
    source = _nullable_str()


class FigureSchema(Schema):
    value = Figure(required=True)
    lower = _nullable_number()
    upper = _nullable_number()
    qualifier = fields.String(required=True)
    unit = fields.String(required=True)
    as_of = _nullable_str()
    low = Figure(required=True)
    high = Figure(required=True)
    sources = fields.Integer(required=True)
    conflict = fields.Boolean(required=True)
    conflicts = fields.List(fields.String(), required=True)
    explanation = fields.List(fields.String(), required=True)
    provenance = fields.Nested(ClaimSchema, required=True)


class TopicKeySchema(Schema):
    """What a topic is about: the parts of its key."""

    topic = fields.String(required=True)
    measure = fields.String(required=True)
    subject = fields.String(required=True)
    place = _nullable_str()
    kind = fields.String(required=True)
    unit = fields.String(required=True)


class TopicSchema(TopicKeySchema):
    known_at_position = fields.Integer(allow_none=True)
    valid_at = _nullable_str()
    figure = fields.Nested(FigureSchema, allow_none=True, required=True)
    competing = fields.List(
        fields.Nested(ClaimSchema),
        required=True,
        metadata={"description": "The latest competing claims (at most 20; all: /claims)"},
    )
    competing_total = fields.Integer(required=True)
    claims = fields.Integer(required=True)


class TopicSummarySchema(TopicKeySchema):
    figure = fields.Nested(FigureSummarySchema, allow_none=True, required=True)
    sources = fields.Integer(required=True)
    claims = fields.Integer(required=True)
    conflict = fields.Boolean(required=True)


class TopicPageSchema(Schema):
    items = fields.List(fields.Nested(TopicSummarySchema), required=True)
    total = fields.Integer(required=True)
    known_at_position = fields.Integer(allow_none=True)
    valid_at = _nullable_str()


class CauseSchema(Schema):
    event_type = fields.String(required=True)
    event_id = fields.String(required=True)
    claim_id = _nullable_str()
    detail = _nullable_str()


class HistoryEntrySchema(Schema):
    position = fields.Integer(required=True)
    recorded_at = fields.String(required=True)
    valid_as_of = _nullable_str()
    from_ = fields.Nested(
        FigureSummarySchema, allow_none=True, data_key="from", attribute="from", required=True
    )
    to = fields.Nested(FigureSummarySchema, allow_none=True, required=True)
    cause = fields.Nested(CauseSchema, required=True)
    conflict = fields.Boolean(required=True)


class HistorySchema(Schema):
    topic = fields.String(required=True)
    known_at_position = fields.Integer(allow_none=True)
    items = fields.List(fields.Nested(HistoryEntrySchema), required=True)


class ArticleSchema(ArticleRefSchema):
    content_hash = fields.String(required=True)
    extractor_version = _nullable_str()
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    revisions = fields.Integer(required=True)
    ingested_at = fields.String(required=True)
    updated_at = fields.String(required=True)


class ArticleDetailSchema(ArticleSchema):
    claims = fields.List(fields.Nested(ClaimSchema), required=True)


class ArticlePageSchema(Schema):
    items = fields.List(fields.Nested(ArticleSchema), required=True)
    total = fields.Integer(required=True)


class IngestResultSchema(Schema):
    stream_id = fields.String(required=True)
    article_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "new, revised or unchanged"})
    version = fields.Integer(required=True)
    events_appended = fields.Integer(required=True)
    claims_asserted = fields.Integer(required=True)
    claims_retracted = fields.Integer(required=True)
    head_position = fields.Integer(required=True)
    claims = fields.List(fields.Nested(ClaimSchema), required=True)


class CorrectionResultSchema(Schema):
    claim = fields.Nested(ClaimDetailSchema, required=True)
    event = fields.Nested(EventSchema, required=True)


class LagSchema(Schema):
    name = fields.String(required=True)
    checkpoint = fields.Integer(required=True)
    lag = fields.Integer(required=True)


class HealthSchema(Schema):
    status = fields.String(required=True)
    database = fields.String(required=True)
    head_position = fields.Integer(required=True)
    projections = fields.List(fields.Nested(LagSchema), required=True)
    scheduler = fields.Dict(allow_none=True, required=True)


class FieldErrorSchema(Schema):
    field = fields.String(required=True)
    in_ = fields.String(data_key="in", attribute="in", required=True)
    message = fields.String(required=True)


class ProblemSchema(Schema):
    """RFC 9457 problem details, the body of every error response."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.List(fields.Nested(FieldErrorSchema))
    # position-not-reached (503): the position asked for, and the furthest the store has come.
    min_position = fields.Integer()
    position = fields.Integer()


# --- sources and jobs (scheduled re-ingestion) -------------------------------------------------


class SourceInSchema(StrictSchema):
    """A source added over the API: http or feed only (the kinds that read the server's own
    files are configured in the sources file)."""

    id = fields.String(
        required=True,
        validate=validate.Regexp(SOURCE_ID.pattern, error="1-64 of a-z 0-9 _ -"),
    )
    kind = fields.String(required=True, validate=validate.OneOf(["http", "feed"]))
    urls = fields.List(
        fields.String(
            validate=[
                validate.Length(max=2000),
                validate.Regexp(URL_PATTERN, error="Not an http(s) URL."),
            ]
        ),
        required=True,
        validate=validate.Length(min=1, max=MAX_URLS),
        metadata={"description": "kind http: the article URLs; kind feed: the feed URLs"},
    )
    schedule = fields.String(
        validate=validate.Regexp(SCHEDULE_PATTERN, error="Not an interval or a crontab line."),
        metadata={
            "description": "An interval ('15m', '1h30m'; default 1h) or a five-field crontab "
            "line in UTC ('0 */6 * * *'; values, lists and steps)"
        },
    )
    outlet = _text(1, MAX_OUTLET)
    max_items = fields.Integer(
        validate=validate.Range(min=1, max=10_000),
        metadata={"description": "At most N articles a run (feeds: the newest)"},
    )


class SourceSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    schedule = fields.String(required=True, metadata={"description": "'every 1h', 'cron …'"})
    interval = fields.String()
    cron = fields.String()
    path = fields.String()
    urls = fields.List(fields.String())
    outlet = fields.String()
    max_items = fields.Integer()
    allow_private = fields.Boolean()
    allow_hosts = fields.List(fields.String())
    origin = fields.String(
        required=True, metadata={"description": "file (sources file), default (seeds/) or api"}
    )
    job_id = fields.String(required=True)


class SourceListSchema(Schema):
    items = fields.List(fields.Nested(SourceSchema), required=True)


class RunSourceSchema(Schema):
    source_id = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "ok | failed"})
    error = fields.String(allow_none=True)
    new = fields.Integer()
    revised = fields.Integer()
    unchanged = fields.Integer()
    not_modified = fields.Integer()
    withdrawn = fields.Integer()
    failed = fields.Integer()
    events_appended = fields.Integer()
    claims_asserted = fields.Integer()
    claims_retracted = fields.Integer()
    errors = fields.List(fields.String())


class RunSchema(Schema):
    run_id = fields.String(required=True)
    job_id = fields.String(required=True)
    trigger = fields.String(required=True, metadata={"description": "cli | schedule | request"})
    status = fields.String(
        required=True,
        metadata={
            "description": (
                "running | ok | partial | failed | interrupted (never finished: a later run"
                " of the job started, or its scheduler process is gone)"
            )
        },
    )
    started_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True, required=True)
    position = fields.Integer(required=True, metadata={"description": "Log position of RunStarted"})
    duration_s = fields.Float(allow_none=True, required=True)
    instance = fields.String(allow_none=True, required=True)
    requests = fields.List(fields.String(), required=True)
    totals = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    sources = fields.List(fields.Nested(RunSourceSchema), required=True)


class JobSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "reingest | reextract"})
    schedule = fields.String(required=True)
    source = fields.Nested(SourceSchema, allow_none=True, required=True)
    last_run = fields.Nested(RunSchema, allow_none=True, required=True)


class JobListSchema(Schema):
    items = fields.List(fields.Nested(JobSchema), required=True)
    scheduler = fields.Dict(allow_none=True, required=True)


class RunListSchema(Schema):
    job_id = fields.String(required=True)
    items = fields.List(fields.Nested(RunSchema), required=True)


class RunListArgsSchema(ReadArgsSchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


class RunRequestedSchema(Schema):
    job_id = fields.String(required=True)
    request_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "queued"})
    scheduler = fields.Dict(
        allow_none=True,
        required=True,
        metadata={"description": "The scheduler's heartbeat: the request waits for its leader"},
    )
