"""GET /docs: Swagger UI served from this process, no CDN.

FastAPI's own /docs loads Swagger UI from a CDN without Subresource
Integrity; here its files come from the pinned `swagger-ui-py` package
(Swagger UI 5, which reads the OpenAPI 3.1 schema FastAPI writes) under
/docs/assets/. The page's one inline script, which starts Swagger UI, is
allowed by its SHA-256 hash in the page's own Content-Security-Policy.
ReDoc is off (`redoc_url=None`): it would need a CDN script and Google fonts.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from hookboard.api.middleware.security_headers import (
    CSP_HEADER,
    INLINE_SCRIPT,
    content_security_policy,
    script_hash,
)

DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
OPENAPI_PATH = "/openapi.json"
# The only files the page loads; nothing else in the package is served.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}

router = APIRouter(include_in_schema=False)


def _static_dir() -> Path:
    return Path(str(files("swagger_ui") / "static"))


@lru_cache
def _docs_page() -> tuple[bytes, str]:
    """The page and its policy, built once: both depend only on constants."""
    page = get_swagger_ui_html(
        openapi_url=OPENAPI_PATH,
        title="Hookboard API",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        # Swagger UI would otherwise send the schema's URL to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
    hashes = [script_hash(source) for source in INLINE_SCRIPT.findall(page.body)]
    return page.body, content_security_policy(script_sources=hashes, allow_eval=False)


@router.get(DOCS_PATH)
def swagger_ui() -> HTMLResponse:
    body, policy = _docs_page()
    return HTMLResponse(body, headers={CSP_HEADER: policy})


@router.get(f"{ASSETS_PATH}/{{name}}")
def swagger_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, "no such file")
    # Versioned by the pinned package: a day of caching is safe and spares 1.5 MB per visit.
    headers = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(_static_dir() / name, media_type=ASSETS[name], headers=headers)
