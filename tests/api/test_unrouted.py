"""Under /api/v1, a path or method no route takes answers the JSON error shape,
also when the dashboard is mounted behind the API (as Reflex mounts it)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from hookboard.api.app import create_api


def dashboard_page(request):
    return HTMLResponse("<html>dashboard</html>", status_code=404)


def dashboard_wrong_method(request):
    return PlainTextResponse("Method Not Allowed", status_code=405, headers={"Allow": "GET"})


@pytest.fixture(scope="module")
def web_app():
    # What App.__call__ does with api_transformer: the frontend mounted at "" behind the API.
    api = create_api()
    frontend = Starlette(
        routes=[
            Route("/{path:path}", dashboard_page, methods=["GET"]),
            Route("/{path:path}", dashboard_wrong_method, methods=["PUT", "POST", "DELETE"]),
        ]
    )
    api.mount("", frontend)
    return api


def call(app, method: str, path: str) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.request(method, path)

    return asyncio.run(send())


def test_a_wrong_method_is_a_json_405_with_the_resources_methods(web_app):
    response = call(web_app, "PUT", "/api/v1/schedules")
    assert response.status_code == 405, response.text
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET, HEAD, POST"


def test_an_unknown_api_path_is_a_json_404(web_app):
    response = call(web_app, "GET", "/api/v1/no-such-thing")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_pages_outside_the_api_still_reach_the_dashboard(web_app):
    response = call(web_app, "GET", "/schedules")
    assert response.text == "<html>dashboard</html>"
