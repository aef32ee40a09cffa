"""Stores: the Store protocol and its embedded SQLite implementation."""

from flashpoint.store.base import Batch, BatchResult, MessageQuery, QuarantineItem, Store
from flashpoint.store.sqlite import SqliteStore

__all__ = ["Batch", "BatchResult", "MessageQuery", "QuarantineItem", "SqliteStore", "Store"]
