"""Integers beyond what the database holds are refused at the edge, never a 500.

The routes come from the app's route table: every route (JSON API, pages, /v1) with an integer
path parameter answers 404 for an id no row can have, so a new route is covered without a row
here. Integer fields of JSON bodies answer 400 naming the field."""

from __future__ import annotations

import re
import typing
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel

from .world import World

TOO_BIG = [2**63, 2**64, 10**30]


@pytest.fixture
def edge_client(app: FastAPI) -> typing.Iterator[TestClient]:
    """A client that sees a 500 as a response (to list every failing route) instead of raising."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _is_int(annotation: Any) -> bool:
    """int, ``int | None``, ``list[int]``, with or without constraints (Annotated)."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_int(typing.get_args(annotation)[0])
    return annotation is int or any(_is_int(a) for a in typing.get_args(annotation))


def int_path_routes(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """(method, path, the integer path parameters) of every route that has one."""
    found = []
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None or not route.path:
            continue
        ints = [p.name for p in dependant.path_params if _is_int(p.field_info.annotation)]
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if ints:
                found.append((method, route.path, ints))
    return found


def test_the_route_table_has_the_integer_path_routes(app: FastAPI) -> None:
    paths = {path for _, path, _ in int_path_routes(app)}
    # a sample of every surface, so that discovery itself cannot silently find nothing
    assert {"/api/v1/users/{user_id}", "/chat/{conversation_id}", "/admin/models/{endpoint_id:int}"} <= paths
    assert len(paths) >= 35


def _url(path: str, ints: list[str], value: int) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return str(value) if name in ints else "x"

    return re.sub(r"\{([^}]+)\}", fill, path)


def test_ids_beyond_64_bits_in_paths_are_not_found(app: FastAPI, edge_client: TestClient, world: World) -> None:
    headers = world.headers("system_admin")
    failures = []
    for method, path, ints in int_path_routes(app):
        for value in TOO_BIG:
            response = edge_client.request(method, _url(path, ints, value), headers=headers, json={})
            if response.status_code != 404 or response.headers["content-type"].startswith("text/html"):
                failures.append((method, path, value, response.status_code))
    assert failures == []


def _json_routes(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """(method, path, integer fields) of /api/v1 routes whose JSON body model has integer fields."""
    found = []
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None or not route.path or not route.path.startswith("/api/v1"):
            continue
        for body in dependant.body_params:
            model = body.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                fields = [n for n, f in model.model_fields.items() if _is_int(f.annotation)]
                if fields:
                    found += [(m, route.path, fields) for m in sorted(route.methods or set())]
    return found


def test_integers_beyond_64_bits_in_json_bodies_are_refused_naming_the_field(
    app: FastAPI, edge_client: TestClient, world: World
) -> None:
    headers = world.headers("system_admin")
    routes = _json_routes(app)
    assert len(routes) >= 10
    failures = []
    for method, path, fields in routes:
        url = _url(path, [], 1).replace("/x", "/1")
        for name in fields:
            for value in TOO_BIG:
                response = edge_client.request(method, url, headers=headers, json={name: value})
                problems = response.json().get("error", {}).get("detail", {}).get("problems", [])
                named = any(str(p["field"]).split(".")[0] == name for p in problems if isinstance(p, dict))
                if response.status_code != 400 or not named:
                    failures.append((method, path, name, value, response.status_code))
    assert failures == []


def int_query_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    """(path, parameter) of every GET route with an integer query parameter (ids, limits, offsets)."""
    found = []
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None or not route.path or "GET" not in (route.methods or set()):
            continue
        params = [*dependant.query_params, *(p for d in dependant.dependencies for p in d.query_params)]
        found += [("GET", route.path, p.name) for p in params if _is_int(p.field_info.annotation)]
    return found


def test_integers_beyond_64_bits_in_queries_are_refused(app: FastAPI, edge_client: TestClient, world: World) -> None:
    routes = int_query_routes(app)
    assert {("GET", "/api/v1/usage", "offset"), ("GET", "/api/v1/audit", "before_id")} <= set(routes)
    failures = []
    for method, path, name in routes:
        url = _url(path, [], 1).replace("/x", "/1")
        response = edge_client.request(method, url, params={name: str(2**64)}, headers=world.headers("system_admin"))
        if response.status_code not in (400, 404):
            failures.append((path, name, response.status_code))
    assert failures == []
