"""The OpenAPI page at /docs: Swagger UI from this server, with no inline script.

FastAPI's default page loads Swagger UI from a CDN and starts it with an inline
script; both break under the service's Content-Security-Policy (scripts only
from 'self') and would send visitors' traffic elsewhere. This page loads the
npm package swagger-ui-dist, mounted at /vendor/swagger-ui, and starts it
with a small script served as a file of its own.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

SWAGGER_UI_PREFIX = "/vendor/swagger-ui"
INIT_SCRIPT_PATH = "/docs/init.js"

DOCS_HTML = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>gradtrace API</title>
  <link rel="stylesheet" href="{SWAGGER_UI_PREFIX}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{SWAGGER_UI_PREFIX}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="/openapi.json"></div>
  <script src="{SWAGGER_UI_PREFIX}/swagger-ui-bundle.js"></script>
  <script src="{INIT_SCRIPT_PATH}"></script>
</body>
</html>
"""

INIT_SCRIPT = """// Start Swagger UI on the page's element, with the schema URL the element names.
"use strict";
(function () {
  const element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.dataset.openapiUrl,
    domNode: element,
    deepLinking: true,
    tryItOutEnabled: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
"""

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def get_docs() -> HTMLResponse:
    """The OpenAPI page."""
    return HTMLResponse(DOCS_HTML)


@router.get(INIT_SCRIPT_PATH)
def get_docs_script() -> Response:
    """The script that starts Swagger UI on the OpenAPI page."""
    return Response(INIT_SCRIPT, media_type="text/javascript")
