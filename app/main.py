from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from app.metrics import install_metrics
from app.problems import install_error_handlers
from app.routers import (
    api_assignments,
    api_deliveries,
    api_submissions,
    lms,
    ops,
    web_assignments,
    web_login,
    web_submissions,
)
from app.templating import templates
from app.uploads import request_body_limit
from grader import Catalog
from workers.settings import Settings, get_settings

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, catalog: Catalog | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="tfgrade",
        version="0.1.0",
        docs_url="/docs",
        max_body_size=request_body_limit(settings.max_upload_bytes),
    )
    app.state.settings = settings
    app.state.catalog = catalog or Catalog()
    app.state.metrics = install_metrics(
        app, settings.database_url, worker_stale_seconds=settings.worker_stale_seconds
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="tfgrade_session",
        same_site="lax",
        https_only=settings.public_url.startswith("https://"),
    )
    install_error_handlers(app, templates)
    for module in (
        web_login,
        web_assignments,
        web_submissions,
        api_assignments,
        api_submissions,
        api_deliveries,
        lms,
        ops,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
