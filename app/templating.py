from pathlib import Path

from fastapi.templating import Jinja2Templates

from app.csrf import csrf_token

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["csrf_token"] = csrf_token
