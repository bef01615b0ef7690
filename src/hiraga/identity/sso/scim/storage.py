"""The directory as a scim2-server storage: Users and Groups read from and written to hiraga's tables in the
request's database session (one transaction per request; the caller commits). scim2-server does the
protocol (validation, PATCH, filters, paging, errors); this class only stores."""

from __future__ import annotations

from typing import Any, cast

from scim2_models import (
    NotImplementedException,
    Resource,
    ResourceType,
    ResponseParameters,
    ScimFilter,
    ScimProvider,
    SearchRequest,
)
from scim2_server.storage import ScimStorage, SearchPage
from scim2_server.utils import parametrize
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hiraga.identity.principal import Principal
from hiraga.identity.sso.scim import groups, users
from hiraga.store.tables import ScimGroup, ScimUser


def _equality(scim_filter: ScimFilter[Any] | None, attribute: str) -> str | None:
    """The value of a plain ``<attribute> eq "value"`` filter (what IdPs send to look one up), else None."""
    if scim_filter is None:
        return None
    text = str(scim_filter).strip()
    head = f"{attribute} eq "
    if not text.lower().startswith(head.lower()):
        return None
    value = text[len(head) :].strip()
    if len(value) < 2 or value[0] != '"' or value[-1] != '"' or '"' in value[1:-1] or "\\" in value:
        return None
    return value[1:-1]


class DirectoryStorage(ScimStorage):
    def __init__(self, db: Session, provider: ScimProvider, actor: Principal, break_glass: list[str]) -> None:
        self.db = db
        self.provider = provider
        self.actor = actor
        self.break_glass = break_glass

    def _model(self, resource_type: ResourceType) -> type[Resource[Any]]:
        return cast("type[Resource[Any]]", self.provider.model_for(resource_type))

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        model = self._model(resource_type)
        if resource_type.name == "User":
            return users.load(self.db, model, users.get_row(self.db, resource_id))
        return groups.load(self.db, model, groups.get_row(self.db, resource_id))

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        if len(resource_types) != 1:
            raise NotImplementedException(detail="Search at the server root is not supported.")
        if search_request.filter is None and search_request.sort_by is None:
            return self._page_in_sql(resource_types[0], search_request)
        found = [r for r in self._candidates(resource_types[0], search_request.filter) if _matches(search_request, r)]
        found = search_request.sort(found)
        start = search_request.start_index_0 or 0
        return SearchPage(len(found), found[start : search_request.stop_index_0])

    def _page_in_sql(self, resource_type: ResourceType, search_request: SearchRequest[Any]) -> SearchPage:
        """A plain listing: counted and paged by the database, only the page is loaded."""
        model = self._model(resource_type)
        start = search_request.start_index_0 or 0
        if resource_type.name == "User":
            total = self.db.scalar(select(func.count()).select_from(ScimUser)) or 0
            stmt = select(ScimUser).order_by(ScimUser.user_id).offset(start).limit(search_request.count)
            return SearchPage(total, [users.load(self.db, model, row) for row in self.db.scalars(stmt)])
        total = self.db.scalar(select(func.count()).select_from(ScimGroup)) or 0
        group_stmt = select(ScimGroup).order_by(ScimGroup.id).offset(start).limit(search_request.count)
        return SearchPage(total, [groups.load(self.db, model, row) for row in self.db.scalars(group_stmt)])

    def _candidates(self, resource_type: ResourceType, scim_filter: ScimFilter[Any] | None) -> list[Resource[Any]]:
        model = self._model(resource_type)
        external_id = _equality(scim_filter, "externalId")
        if resource_type.name == "User":
            user_name = _equality(scim_filter, "userName")
            rows = users.all_rows(self.db, user_name=user_name, external_id=external_id)
            return [users.load(self.db, model, row) for row in rows]
        display_name = _equality(scim_filter, "displayName")
        group_rows = groups.all_rows(self.db, display_name=display_name, external_id=external_id)
        return [groups.load(self.db, model, row) for row in group_rows]

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        model = self._model(resource_type)
        if resource_type.name == "User":
            created = users.create(self.db, model, resource, self.actor, self.break_glass)
            groups.resync(self.db, {int(str(created.id))}, self.actor)
            return created
        return groups.create(self.db, model, resource, self.actor)

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        model = self._model(resource_type)
        if resource_type.name == "User":
            replaced = users.replace(self.db, model, resource, self.actor, self.break_glass)
            groups.resync(self.db, {int(str(replaced.id))}, self.actor)
            return replaced
        return groups.replace(self.db, model, resource, self.actor)

    def delete(self, resource_type: ResourceType, resource_id: str, *, expected_version: str | None = None) -> None:
        if resource_type.name == "User":
            users.remove(self.db, resource_id, self.actor)
        else:
            groups.remove(self.db, resource_id, self.actor)


def _matches(search_request: SearchRequest[Any], resource: Resource[Any]) -> bool:
    scim_filter = search_request.filter
    if scim_filter is None:
        return True
    if not scim_filter.models:  # a filter bound to no model: bind it to the resource's
        scim_filter = parametrize(ScimFilter, type(resource))(str(scim_filter))
    return bool(scim_filter.match(resource))
