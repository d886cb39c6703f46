"""The `factstore` command. Each subcommand is a thin adapter: parse arguments, call the package,
print. Errors become one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from factstore.config import ConfigError, Settings
from factstore.domain.events import actor_problem
from factstore.heap import start_heap_trimmer
from factstore.recycle import MemoryCeiling, restart_unless_stopped, stop_on_signals
from factstore.store.database import create_store_engine
from factstore.store.errors import StoreError
from factstore.store.event_store import EventStore

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILURE = 1


class CliError(click.ClickException):
    """A failure worth one line: printed as 'factstore: error: …', exit 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"factstore: error: {self.format_message()}", err=True)


def one_line_errors(command: F) -> F:
    """Turn the package's expected failures into CliError (one line, exit 1)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from factstore.ingest.sources import SourceError

        try:
            return command(*args, **kwargs)
        except (StoreError, SourceError, ValueError) as error:  # SourceConfigError too
            raise CliError(str(error)) from error
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise CliError(f"database error: {reason}") from error
        except OSError as error:
            raise CliError(str(error)) from error

    return wrapper  # type: ignore[return-value]


class Context:
    def __init__(self, database_url: str | None) -> None:
        self.settings = Settings.from_env()
        # The option (or FACTSTORE_DATABASE_URL) wins; else the settings (secret file, default).
        self.database_url = database_url or self.settings.database_url
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_store_engine(self.database_url)
        return self._engine

    def store(self, *, require_schema: bool = True) -> EventStore:
        if require_schema:
            from factstore.store.schema import require_current_schema

            require_current_schema(self.engine)
        return EventStore(self.engine)


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database-url",
    envvar="FACTSTORE_DATABASE_URL",
    show_default="sqlite:///factstore.db",
    help="SQLAlchemy URL of the store (env FACTSTORE_DATABASE_URL or FACTSTORE_DATABASE_URL_FILE).",
)
@click.version_option(package_name="factstore")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """factstore: an auditable record of figures from news articles."""
    try:
        ctx.obj = Context(database_url)
    except ConfigError as error:
        raise CliError(str(error)) from error


# --- database ---------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Create or migrate the database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_context
@one_line_errors
def db_upgrade(context: Context, revision: str) -> None:
    """Create the schema or migrate it to REVISION (default: head)."""
    from factstore.store.schema import current_revision, upgrade

    before = current_revision(context.engine)
    upgrade(context.engine, revision)
    after = current_revision(context.engine)
    shown = context.engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"schema already at {after} ({shown})")
    else:
        click.echo(f"schema upgraded {before or 'empty'} -> {after} ({shown})")


@db.command("current")
@pass_context
@one_line_errors
def db_current(context: Context) -> None:
    """Print the schema revision of the database."""
    from factstore.store.schema import current_revision

    click.echo(current_revision(context.engine) or "empty (run: factstore db upgrade)")


# --- ingestion --------------------------------------------------------------------------------


def _checked_actor(_context: click.Context, _parameter: click.Parameter, value: str) -> str:
    problem = actor_problem(value)
    if problem is not None:
        raise click.BadParameter(problem)
    return value


actor_option = click.option(
    "--actor",
    default=lambda: os.environ.get("USER", "cli"),
    callback=_checked_actor,
    help="Recorded as the writer.",
)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@actor_option
@click.option("--batch-size", default=200, show_default=True, help="Articles per transaction.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary.")
@pass_context
@one_line_errors
def ingest(
    context: Context, paths: tuple[Path, ...], actor: str, batch_size: int, quiet: bool
) -> None:
    """Ingest articles from text, JSON or JSON Lines files, or folders of them."""
    from factstore.ingest.service import ingest as ingest_articles
    from factstore.ingest.sources import read_paths
    from factstore.projections import default_runner

    store = context.store()
    runner = default_runner(store, context.settings)
    # Read everything once before writing anything, so a bad record fails the whole command
    # instead of leaving the input half-ingested.
    total = sum(1 for _ in read_paths(paths))
    counts = {"new": 0, "revised": 0, "unchanged": 0}
    events = claims = 0
    started = time.monotonic()
    show_progress = quiet or total > 50
    metadata = {"actor": actor, "source": "cli:ingest"}
    for done, outcome in enumerate(
        ingest_articles(
            store, read_paths(paths), metadata=metadata, batch_size=batch_size, runner=runner
        ),
        1,
    ):
        counts[outcome.status] += 1
        events += outcome.events_appended
        claims += outcome.claims_asserted
        if not quiet and total <= 50:
            click.echo(
                f"{outcome.status:9} {outcome.stream_id} v{outcome.version} "
                f"(+{outcome.events_appended} events, +{outcome.claims_asserted} claims, "
                f"-{outcome.claims_retracted} retracted) {outcome.source or ''}".rstrip()
            )
        elif show_progress and (done % 500 == 0 or done == total) and sys.stderr.isatty():
            click.echo(f"\r{done}/{total} articles", err=True, nl=done == total)
    elapsed = time.monotonic() - started
    click.echo(
        f"ingested {total} articles: {counts['new']} new, {counts['revised']} revised, "
        f"{counts['unchanged']} unchanged; {events} events appended ({claims} claims); "
        f"head position {store.head_position()} ({elapsed:.2f}s)"
    )


@main.command()
@click.argument("source_ids", nargs=-1)
@actor_option
@pass_context
@one_line_errors
def reingest(context: Context, source_ids: tuple[str, ...], actor: str) -> None:
    """Run the configured sources (all, or SOURCE_IDS) once, now, and print what was appended.
    Sources come from FACTSTORE_SOURCES (default ./sources.toml; without it, seeds/)."""
    from factstore.ingest import reingest as reingesting
    from factstore.ingest.registry import load_sources
    from factstore.projections import default_runner

    store = context.store()
    selected = load_sources(store).select(source_ids)
    # One source: a run of its job; several: one run of them all (listed under each job).
    job_id = "reingest" if len(selected) != 1 else selected[0].job_id
    report = reingesting.run_sources(
        store,
        default_runner(store, context.settings),
        selected,
        job_id=job_id,
        trigger="cli",
        actor=actor,
        on_source=lambda result: click.echo(_source_line(result)),
    )
    totals = report.totals
    click.echo(
        f"run {report.run_id} {report.status}: {totals['new']} new, {totals['revised']} "
        f"revised, {totals['unchanged']} unchanged, {totals['not_modified']} not modified, "
        f"{totals['withdrawn']} withdrawn, {totals['failed']} failed; "
        f"{totals['events_appended']} events appended ({report.duration_s:.2f}s)"
    )
    if report.status != "ok":
        failed = [r.source_id for r in report.sources if r.counts is None or r.counts.failed]
        raise CliError(f"run {report.run_id} {report.status}: see source(s) {', '.join(failed)}")


def _source_line(result: Any) -> str:
    if result.counts is None:
        return f"{result.source_id:12} FAILED: {result.error}"
    c = result.counts
    line = (
        f"{result.source_id:12} {c.new} new, {c.revised} revised, {c.unchanged} unchanged, "
        f"{c.not_modified} not modified, {c.withdrawn} withdrawn, {c.failed} failed; "
        f"+{c.events_appended} events (+{c.claims_asserted} claims, "
        f"-{c.claims_retracted} retracted)"
    )
    return "\n".join([line, *(f"{'':12} error: {e}" for e in c.errors)])


@main.command()
@actor_option
@pass_context
@one_line_errors
def reextract(context: Context, actor: str) -> None:
    """Re-run extraction on every article stored by an older extractor version; append the
    claim diff (recorded as a run of job `reextract`)."""
    from factstore.extraction import EXTRACTOR_VERSION
    from factstore.ingest.reextract import reextract_all
    from factstore.projections import default_runner

    store = context.store()
    report = reextract_all(
        store, default_runner(store, context.settings), actor=actor, trigger="cli"
    )
    counts = report.sources[0].counts
    assert counts is not None
    click.echo(
        f"run {report.run_id}: {counts.revised} articles re-extracted by {EXTRACTOR_VERSION}, "
        f"{counts.unchanged} found nothing new; {counts.events_appended} events appended "
        f"(+{counts.claims_asserted} claims, -{counts.claims_retracted} retracted) "
        f"({report.duration_s:.2f}s)"
    )


@main.command()
@click.option(
    "--heartbeat",
    default=5.0,
    show_default=True,
    help="Seconds between heartbeats (and leader-lock, sources and run-request checks).",
)
@click.option(
    "--misfire-grace",
    default=300,
    show_default=True,
    help="Seconds a missed run may still start late.",
)
@pass_context
@one_line_errors
def scheduler(context: Context, heartbeat: float, misfire_grace: int) -> None:
    """Run the sources on their schedules until SIGTERM/Ctrl-C (its own process, never in the
    web workers). Several may run against one database: one leads, the others stand by."""
    import logging
    import threading

    from factstore.ingest.registry import load_sources
    from factstore.ingest.scheduler import SchedulerProcess

    store = context.store()
    load_sources(store)  # a broken sources file fails here, in one line
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    stop = threading.Event()
    stop_on_signals(stop)
    start_heap_trimmer(context.settings.heap_trim_seconds)
    process = SchedulerProcess(
        store,
        context.settings,
        heartbeat_s=heartbeat,
        misfire_grace_s=misfire_grace,
        on_event=lambda message: click.echo(message, err=True),
    )
    ceiling = MemoryCeiling(context.settings.process_max_rss_mib)
    if process.serve(stop, pause=ceiling.exceeded):
        store.engine.dispose()
        restart_unless_stopped(f"scheduler: {ceiling.describe()}", stop)


# --- audit ------------------------------------------------------------------------------------


@main.command()
@click.option("--digest", "digest", metavar="DIGEST@POSITION", help="A digest printed earlier.")
@pass_context
@one_line_errors
def verify(context: Context, digest: str | None) -> None:
    """Check every hash chain; with --digest, that the log still begins with that history."""
    from factstore.store.verification import check_digest, parse_digest, verify_log

    if digest is not None:
        parse_digest(digest)  # a malformed digest fails before the walk
    store = context.store()
    report = verify_log(store)
    if report.broken is not None:
        click.echo(f"factstore: verify failed: {report.broken}", err=True)
        sys.exit(EXIT_FAILURE)
    if digest is not None:
        problem = check_digest(store, digest)
        if problem is not None:
            click.echo(f"factstore: verify failed: {problem}", err=True)
            sys.exit(EXIT_FAILURE)
    click.echo(
        f"ok: {report.events_checked} events in {report.streams_checked} streams verified; "
        f"head {report.digest}" + (f"; digest {digest} holds" if digest else "")
    )


@main.command()
@pass_context
@one_line_errors
def digest(context: Context) -> None:
    """Print the digest of the whole log at its head position (write it down)."""
    from factstore.store.verification import format_digest

    position, head_hash = context.store().head()
    click.echo(format_digest(head_hash, position))


@main.command("export")
@click.argument("target", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@pass_context
@one_line_errors
def export_command(context: Context, target: str) -> None:
    """Write the whole log, hashes included, as JSON Lines to TARGET (default: stdout;
    a name ending in .gz is gzipped). A file appears only once it is complete."""
    from factstore.store.export import export_lines

    store = context.store()
    if target == "-":
        for line in export_lines(store):
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return
    path = Path(target)
    partial = path.with_name(f".{path.name}.partial")
    last = ""
    try:
        with _open_text(partial, "w", gzipped=path.suffix == ".gz") as handle:
            for last in export_lines(store):
                handle.write(last + "\n")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    closing = json.loads(last)
    click.echo(f"exported {closing['events']} events to {path}; head {closing['digest']}")


@main.command("import")
@click.argument("source", type=click.Path(dir_okay=False, allow_dash=True))
@pass_context
@one_line_errors
def import_command(context: Context, source: str) -> None:
    """Load an export (JSON Lines; .gz read as gzip; - reads stdin) into this empty store,
    exactly as it was recorded, then rebuild the projections. Every hash is checked before
    anything is committed: a broken or truncated export writes nothing."""
    from factstore.projections import default_runner
    from factstore.store.export import ExportFormatError, read_export
    from factstore.store.verification import format_digest

    store = context.store()
    started = time.monotonic()
    try:
        if source == "-":
            count = store.import_log(read_export(sys.stdin))
        else:
            path = Path(source)
            with _open_text(path, "r", gzipped=path.suffix == ".gz") as handle:
                count = store.import_log(read_export(handle))
    except ExportFormatError as error:
        raise CliError(f"{source}: {error}") from error
    runner = default_runner(store, context.settings)
    for name in runner.projections:
        runner.rebuild(name)
    position, head_hash = store.head()
    click.echo(
        f"imported {count} events; head {format_digest(head_hash, position)}; projections "
        f"rebuilt ({time.monotonic() - started:.2f}s)"
    )


def _open_text(path: Path, mode: str, *, gzipped: bool) -> Any:
    import gzip

    if gzipped:
        return gzip.open(path, mode + "t", encoding="utf-8", newline="\n")
    return path.open(mode, encoding="utf-8", newline="\n")


# --- projections ------------------------------------------------------------------------------


@main.command()
@click.option("--follow", is_flag=True, help="Keep tailing the log until interrupted.")
@click.option("--rebuild", "rebuild_name", metavar="NAME", help="Drop and rebuild one projection.")
@click.option("--status", "show_status", is_flag=True, help="Print each projection's lag.")
@click.option("--poll", default=0.5, show_default=True, help="Seconds between polls (--follow).")
@click.option(
    "--batch-size",
    default=2000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Events per transaction when catching up or following.",
)
@pass_context
@one_line_errors
def project(
    context: Context,
    follow: bool,
    rebuild_name: str | None,
    show_status: bool,
    poll: float,
    batch_size: int,
) -> None:
    """Bring projections up to date with the log (once, or --follow), or --rebuild one."""
    import threading

    from factstore.projections import default_runner

    runner = default_runner(context.store(), context.settings)
    if rebuild_name is not None:
        if rebuild_name not in runner.projections:
            names = ", ".join(runner.projections)
            raise CliError(f"no projection {rebuild_name!r}: one of {names}")
        started = time.monotonic()
        applied = runner.rebuild(rebuild_name)
        elapsed = time.monotonic() - started
        rate = applied / elapsed if elapsed else 0.0
        click.echo(
            f"rebuilt {rebuild_name} from {applied} events in {elapsed:.2f}s ({rate:,.0f}/s)"
        )
    elif follow:
        stop = threading.Event()
        stop_on_signals(stop)
        click.echo("following the log (Ctrl-C to stop)", err=True)
        # One line per applied batch: which positions this follower applied to which projection.
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
        start_heap_trimmer(context.settings.heap_trim_seconds)
        ceiling = MemoryCeiling(context.settings.process_max_rss_mib)
        if runner.follow(stop, poll, batch_size, pause=ceiling.exceeded):
            runner.store.engine.dispose()
            restart_unless_stopped(f"follower: {ceiling.describe()}", stop)
        # Stopping is clean even when the database is away at that moment: the closing
        # report is not worth an error exit (a supervisor would restart the follower).
        try:
            lags = runner.lags()
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            click.echo(f"stopped; lag unknown (database error: {reason})", err=True)
            return
    elif not show_status:
        click.echo(f"applied {runner.catch_up(batch_size=batch_size)} events")
    if not follow:
        lags = runner.lags()
    for lag in lags:
        click.echo(f"{lag.name}: checkpoint {lag.checkpoint}, head {lag.head}, lag {lag.lag}")


@main.command()
@click.option("--topic", help="One topic in full.")
@click.option("--measure")
@click.option("--subject")
@click.option("--place", help="A place slug; places inside it match too.")
@click.option("--search", help="Text in the topic key.")
@click.option("--known-at", help="A log position or ISO timestamp (transaction time).")
@click.option("--valid-at", help="An ISO date (valid time).")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@pass_context
@one_line_errors
def figures(
    context: Context,
    topic: str | None,
    measure: str | None,
    subject: str | None,
    place: str | None,
    search: str | None,
    known_at: str | None,
    valid_at: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List topics with their best figure, or show one topic in full."""
    from factstore.projections import queries
    from factstore.projections.render import render_figure, render_topic_table

    store = context.store()
    if topic is not None:
        document = queries.topic_figure(
            store.engine,
            topic,
            known_at=known_at,
            valid_at=valid_at,
            policy=context.settings.policy,
        )
        if document is None:
            raise CliError(f"no topic {topic!r} (at that point in time)")
        click.echo(_json(document) if as_json else render_figure(document))
        return
    items, total, as_of = queries.list_topics(
        store.engine,
        measure=measure,
        subject=subject,
        place=place,
        search=search,
        known_at=known_at,
        valid_at=valid_at,
        limit=limit,
        policy=context.settings.policy,
    )
    if as_json:
        click.echo(_json({"items": items, "total": total, **as_of.to_dict()}))
    else:
        click.echo(render_topic_table(items, total))


@main.command()
@click.argument("topic")
@click.option("--known-at", help="A log position or ISO timestamp (transaction time).")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@pass_context
@one_line_errors
def history(context: Context, topic: str, known_at: str | None, as_json: bool) -> None:
    """How a topic's best figure changed, and what caused each change."""
    from factstore.projections import queries
    from factstore.projections.render import render_history

    rows = queries.topic_history(context.store().engine, topic, known_at=known_at)
    if rows is None:
        raise CliError(f"no topic {topic!r}")
    click.echo(_json({"topic": topic, "items": rows}) if as_json else render_history(topic, rows))


def _json(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


@main.command()
@click.argument("actor")
@click.option(
    "--add-to",
    "add_to",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Append the configuration line to this tokens file and print only the token.",
)
@one_line_errors
def token(actor: str, add_to: Path | None) -> None:
    """Make an API token for ACTOR: prints the token (give it to the client) and the line to
    add to FACTSTORE_API_TOKENS or FACTSTORE_API_TOKENS_FILE (only the hash is stored)."""
    from factstore.tokens import hash_token, new_token

    problem = actor_problem(actor)
    if problem is not None or ":" in actor or "," in actor:
        raise CliError(problem or "an actor name must contain no ':' or ','")
    secret = new_token()
    line = f"{actor}:{hash_token(secret)}"
    if add_to is None:
        click.echo(f"token: {secret}")
        click.echo(f"configure: {line}")
        return
    descriptor = os.open(add_to, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    click.echo(secret)


# --- serving ----------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    # Capped: each worker holds its own pool of database connections (PostgreSQL allows 100
    # by default); scale out with more machines or --workers, knowingly.
    default=lambda: min(2 * (os.cpu_count() or 1), 8),
    show_default="two per core, at most 8",
    type=click.IntRange(1, 256),
    help="Processes.",
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per worker; open event streams may hold up to half of them.",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log every request on standard output (costs CPU on every request).",
)
@pass_context
@one_line_errors
def serve(
    context: Context, host: str, port: int, workers: int, threads: int, access_log: bool
) -> None:
    """Serve the HTTP API with gunicorn (the web layer lives in the `api` package)."""
    context.store()  # fail here, in one line, if the schema is missing
    os.environ["FACTSTORE_DATABASE_URL"] = context.database_url
    # glibc gives threads that allocate at once arenas of their own (up to 8 per core), which
    # fill and fragment: the soak saw worker RSS creep with a pool of threads per worker. Two
    # arenas per process bound that; an operator's own setting wins.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    # Reads are short and hold the GIL while they compute: with fewer threads per process (and
    # more processes) a reply waits less for a busy neighbour to yield; on the 1M-event load
    # benchmark 4 workers x 2-4 threads cut the p99 of topic reads by half against 2 x 8.
    # Event streams (SSE) hold a thread each for minutes, so they get at most half.
    os.environ.setdefault("FACTSTORE_API_SSE_STREAMS", str(max(1, threads // 2)))
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        # Threads let a worker hold Server-Sent Events streams while serving other requests;
        # with the GIL, more of them add queueing, not CPU.
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        # The app answers over-long URLs itself (414 as problem+json, api.app).
        "--limit-request-line",
        "0",
        # Open event streams must not hold a shutdown or restart for long.
        "--graceful-timeout",
        "5",
        # Hooks: each worker trims its heap now and then (factstore.heap).
        "--config",
        "python:api.gunicorn_config",
        *(["--access-logfile", "-"] if access_log else []),
        "api.wsgi:app",
    ]
    click.echo(
        f"serving http://{host}:{port}/v1/health with {workers} workers × {threads} threads",
        err=True,
    )
    os.execv(sys.executable, argv)


# --- extraction commands ---


@main.command("extract")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--published-at", default=None, help="Publication date (YYYY-MM-DD) for inputs that state none."
)
@click.option("--quantities", is_flag=True, help="Print every quantity mention, claim or not.")
@click.option("--compact", is_flag=True, help="One JSON document per line.")
@one_line_errors
def extract_command(
    files: tuple[str, ...], published_at: str | None, quantities: bool, compact: bool
) -> None:
    """Print the claims of article FILES as JSON, one document per file ('-' reads stdin)."""
    from factstore.extraction.commands import run_extract

    for document in run_extract(
        list(files), published_at=published_at, quantities=quantities, compact=compact
    ):
        click.echo(document)


@main.command("eval")
@click.argument("gold", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--articles",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of the articles (default: ./seeds, then <gold dir>/../seeds).",
)
@click.option("--min-recall", type=float, default=None)
@click.option("--min-precision", type=float, default=None)
@click.option("--min-f1", type=float, default=None)
@click.option("--min-field", type=float, default=None, help="Minimum accuracy of every field.")
@click.option("--json", "as_json", is_flag=True, help="Print the score as JSON.")
@one_line_errors
def eval_command(
    gold: Path,
    articles: Path | None,
    min_recall: float | None,
    min_precision: float | None,
    min_f1: float | None,
    min_field: float | None,
    as_json: bool,
) -> None:
    """Score the extractor against a reference file (format of shared/gold/seeds.json)."""
    from factstore.extraction.commands import run_eval
    from factstore.extraction.evaluation import format_score

    outcome = run_eval(
        gold,
        articles,
        min_recall=min_recall,
        min_precision=min_precision,
        min_f1=min_f1,
        min_field=min_field,
    )
    click.echo(_json(outcome.score.to_dict()) if as_json else format_score(outcome.score))
    if outcome.failures:
        raise CliError("; ".join(outcome.failures))


if __name__ == "__main__":  # pragma: no cover
    main()
