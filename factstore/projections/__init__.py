"""Projections: state derived from the log, rebuilt from it at will."""

from factstore.config import Settings
from factstore.projections.articles import ArticlesProjection
from factstore.projections.figures import FiguresProjection, WarmTopics
from factstore.projections.runner import ProjectionRunner
from factstore.store.event_store import EventStore


def default_runner(store: EventStore, settings: Settings | None = None) -> ProjectionRunner:
    """Every projection, with the settings' policy and warm-topic bound (defaults: None)."""
    settings = settings or Settings()
    figures = FiguresProjection(settings.policy, WarmTopics(settings.warm_claims))
    return ProjectionRunner(store, [ArticlesProjection(), figures])


__all__ = ["ArticlesProjection", "FiguresProjection", "ProjectionRunner", "default_runner"]
