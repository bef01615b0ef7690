from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from hiraga.web import csrf
from hiraga.web.deps import csrf_guard


def _app_with_probe(app: FastAPI) -> None:
    router = APIRouter()

    @router.post("/probe")
    def probe() -> dict[str, bool]:
        return {"ok": True}

    app.include_router(router, dependencies=[Depends(csrf_guard)])


def test_post_without_token_is_refused(app: FastAPI) -> None:
    _app_with_probe(app)
    with TestClient(app) as client:
        response = client.post("/probe", data={"x": "1"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_rejected"


def test_token_must_be_the_hmac_of_the_cookie_nonce(app: FastAPI) -> None:
    _app_with_probe(app)
    secret = app.state.ctx.settings.secret()
    with TestClient(app) as client:
        client.cookies.set(csrf.COOKIE, "nonce-1")
        forged = client.post("/probe", data={csrf.FIELD: "nonce-1"})
        good_form = client.post("/probe", data={csrf.FIELD: csrf.token_for(secret, "nonce-1")})
        good_header = client.post("/probe", headers={"X-CSRF-Token": csrf.token_for(secret, "nonce-1")})
        other_nonce = client.post("/probe", headers={"X-CSRF-Token": csrf.token_for(secret, "nonce-2")})
    assert forged.status_code == 403
    assert good_form.status_code == 200
    assert good_header.status_code == 200
    assert other_nonce.status_code == 403


def test_bearer_requests_are_not_subject_to_csrf(app: FastAPI) -> None:
    _app_with_probe(app)
    with TestClient(app) as client:
        response = client.post("/probe", headers={"Authorization": "Bearer hk-anything"})
    assert response.status_code == 200  # the probe has no auth; CSRF alone did not refuse it


def test_a_cross_site_origin_is_refused_even_with_a_valid_token(app: FastAPI) -> None:
    _app_with_probe(app)
    secret = app.state.ctx.settings.secret()
    token = {"X-CSRF-Token": csrf.token_for(secret, "nonce-1")}
    with TestClient(app) as client:
        client.cookies.set(csrf.COOKIE, "nonce-1")
        cross_site = client.post("/probe", headers={**token, "Origin": "https://evil.example"})
        opaque = client.post("/probe", headers={**token, "Origin": "null"})
        same_host = client.post("/probe", headers={**token, "Origin": "http://testserver"})
        base_url = client.post("/probe", headers={**token, "Origin": app.state.ctx.settings.base_url})
        no_origin = client.post("/probe", headers=token)
        cross_site_no_token = client.post("/probe", headers={"Origin": "https://evil.example"})
    for refused in (cross_site, opaque, cross_site_no_token):
        assert refused.status_code == 403
        assert (
            refused.json()["error"]["code"] == "origin_rejected" and "別のサイト" in refused.json()["error"]["message"]
        )
    assert [same_host.status_code, base_url.status_code, no_origin.status_code] == [200, 200, 200]


def test_api_key_requests_are_not_judged_by_origin(app: FastAPI) -> None:
    _app_with_probe(app)
    with TestClient(app) as client:
        response = client.post("/probe", headers={"Origin": "https://evil.example", "Authorization": "Bearer hk-x"})
    assert response.status_code == 200  # the probe itself asks for no key; the origin was not judged
