"""Projections: state derived from the log, rebuilt from it at will."""

from factstore.projections.articles import ArticlesProjection
from factstore.projections.figures import FiguresProjection
from factstore.projections.runner import ProjectionRunner
from factstore.store.event_store import EventStore


def default_runner(store: EventStore) -> ProjectionRunner:
    return ProjectionRunner(store, [ArticlesProjection(), FiguresProjection()])


__all__ = ["ArticlesProjection", "FiguresProjection", "ProjectionRunner", "default_runner"]
