from fastapi import HTTPException


class NotFound(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(status_code=404, detail=detail)


class Unauthorized(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


class Unprocessable(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(status_code=422, detail=detail)


class ServiceBusy(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(status_code=503, detail=detail, headers={"Retry-After": "30"})


class LoginRequired(Exception):
    """A web page needs a logged-in student; the browser is sent to the login form."""


class PasswordChangeRequired(Exception):
    """The student logged in with a one-time password; every page but the change form sends them there."""


class CsrfRejected(HTTPException):
    def __init__(self) -> None:
        super().__init__(
            status_code=403, detail="The form expired or did not come from this site. Reload it."
        )
