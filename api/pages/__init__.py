"""Audit pages for people: topics, a topic's figure and history, an article, the event log."""

from api.pages import article, event_log, topic, topics
from api.pages.blueprint import blueprint

__all__ = ["article", "blueprint", "event_log", "topic", "topics"]
