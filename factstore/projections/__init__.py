"""Projections: state derived from the log, rebuilt from it at will."""

from factstore.domain.figures import PolicyConfig
from factstore.projections.articles import ArticlesProjection
from factstore.projections.figures import FiguresProjection
from factstore.projections.runner import ProjectionRunner
from factstore.store.event_store import EventStore


def default_runner(store: EventStore, policy: PolicyConfig | None = None) -> ProjectionRunner:
    return ProjectionRunner(store, [ArticlesProjection(), FiguresProjection(policy)])


__all__ = ["ArticlesProjection", "FiguresProjection", "ProjectionRunner", "default_runner"]
