"""The home catalogue: every app the user may use (chat, the task apps, builder apps published to
their teams, and whatever entries earlier features put in), searchable, with favourites and
recently used. An entry is known by its URL, so any feature's entries can be favourited."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hiraga.errors import InvalidInput
from hiraga.portal import builder
from hiraga.portal.task_apps.runner import task_apps
from hiraga.spine.authorize import AccessScope
from hiraga.store.tables import AppUse
from hiraga.store.tables.base import utcnow

Catalogue = Callable[[Session, AccessScope], Iterable[Any]]
RECENT_COUNT = 5


@dataclass(slots=True)
class Entry:
    url: str
    name: str
    description: str
    kind: str  # "チャット" | "タスクアプリ" | "チームのアプリ" | "外部アプリ"
    favourite: bool = False
    last_used_at: datetime | None = None


def _own_entries(db: Session, scope: AccessScope) -> list[Entry]:
    entries = [Entry("/chat", "チャット", "モデルと対話します。ファイルを添付して質問することもできます。", "チャット")]
    for info in task_apps():
        entries.append(Entry(info.url, info.definition.title, info.definition.description, "タスクアプリ"))
    entries.append(
        Entry(
            "/tasks/kouyoubun", "公用文チェック", "公用文の表記・用字用語・文体を規則でチェックします。", "タスクアプリ"
        )
    )
    for app in builder.list_visible(db, scope.principal):
        entries.append(Entry(f"/builder/{app.id}", app.name, app.description, "チームのアプリ"))
    return entries


def _entry_of(item: Any) -> Entry:
    value = item.get if isinstance(item, dict) else lambda key: getattr(item, key, "")
    return Entry(str(value("url")), str(value("name")), str(value("description") or ""), "外部アプリ")


def entries(db: Session, scope: AccessScope, earlier: Catalogue | None = None) -> list[Entry]:
    found = _own_entries(db, scope) + [_entry_of(i) for i in (earlier(db, scope) if earlier else [])]
    uses = {u.app_key: u for u in db.scalars(select(AppUse).where(AppUse.user_id == scope.principal.user_id))}
    for entry in found:
        use = uses.get(entry.url)
        if use is not None:
            entry.favourite, entry.last_used_at = use.favourite, use.last_used_at
    return sorted(found, key=lambda e: (not e.favourite,))


def search(found: list[Entry], query: str) -> list[Entry]:
    words = [unicodedata.normalize("NFKC", w).casefold() for w in query.split()]

    def text(e: Entry) -> str:
        return unicodedata.normalize("NFKC", f"{e.name} {e.description} {e.kind}").casefold()

    return [e for e in found if all(w in text(e) for w in words)]


def recent(found: list[Entry]) -> list[Entry]:
    used = [e for e in found if e.last_used_at is not None]
    return sorted(used, key=lambda e: e.last_used_at or utcnow(), reverse=True)[:RECENT_COUNT]


def _use_row(db: Session, user_id: int, url: str) -> AppUse:
    if not url.startswith("/") or len(url) > 120:
        raise InvalidInput("アプリの指定が正しくありません。", code="invalid_app_key", detail={"field": "app"})
    row = db.get(AppUse, (user_id, url))
    if row is None:
        row = AppUse(user_id=user_id, app_key=url, favourite=False, uses=0)
        db.add(row)
    return row


def set_favourite(db: Session, user_id: int, url: str, favourite: bool, known: Iterable[Entry]) -> None:
    """Mark or unmark an entry of the user's catalogue (``known``) as a favourite."""
    if favourite and url not in {e.url for e in known}:
        raise InvalidInput("お気に入りにできるのはカタログにあるアプリだけです。", code="invalid_app_key")
    _use_row(db, user_id, url).favourite = favourite
    db.flush()


def record_use(db: Session, user_id: int, url: str) -> None:
    row = _use_row(db, user_id, url)
    row.uses = (row.uses or 0) + 1
    row.last_used_at = utcnow()
    db.flush()


def hook(earlier: Catalogue | None) -> Callable[[Session, AccessScope], list[Entry]]:
    """The ``app_catalogue`` hook of the home page, after any earlier feature's entries."""

    def catalogue(db: Session, scope: AccessScope) -> list[Entry]:
        return entries(db, scope, earlier)

    return catalogue
