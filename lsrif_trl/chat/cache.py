"""Answers of a chat endpoint by request key, in an sqlite file (or in memory); each write is committed at once."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

MAX_MEMORY_ENTRIES = 200_000  # an in-memory cache forgets its oldest answers past this (about 40 MB)


def request_key(*parts: Any) -> str:
    """A sha256 of the JSON of everything that decides an answer (endpoint, model, prompt version, text, ...)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class ResponseCache:
    """`get`/`put` of text by key in table `table` of an sqlite file; None as path keeps the newest
    `MAX_MEMORY_ENTRIES` in memory. Thread-safe."""

    def __init__(self, path: str | Path | None, table: str = "responses") -> None:
        if not re.fullmatch(r"[a-z_]+", table):
            raise ValueError(f"cache table name {table!r}: lower-case letters and _ only")
        self.path, self.table = path, table
        self._lock = threading.Lock()
        self._memory: dict[str, str] | None = {} if path is None else None
        self._db: sqlite3.Connection | None = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False)
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, content TEXT NOT NULL)")
            self._db.commit()

    def get(self, key: str) -> str | None:
        """The stored text, or None."""
        if self._memory is not None:
            return self._memory.get(key)
        with self._lock:
            found = self._db.execute(f"SELECT content FROM {self.table} WHERE key = ?", (key,)).fetchone()
        return found[0] if found else None

    def put(self, key: str, content: str) -> None:
        """Store (or replace) the text of `key`."""
        if self._memory is not None:
            with self._lock:
                if len(self._memory) >= MAX_MEMORY_ENTRIES:
                    self._memory.pop(next(iter(self._memory)))
                self._memory[key] = content
            return
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO {self.table} (key, content) VALUES (?, ?)", (key, content))
            self._db.commit()

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "table": self.table}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], state["table"])

    def close(self) -> None:
        """Close the file (an in-memory cache is kept)."""
        if self._db is not None:
            with self._lock:
                self._db.close()
