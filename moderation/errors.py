"""Domain errors raised by services and selectors; the API turns them into its error shape."""


class VigieError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class Forbidden(VigieError):
    status_code = 403
    code = "permission_denied"


class NotFound(VigieError):
    status_code = 404
    code = "not_found"


class Conflict(VigieError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class ArticleClosed(Conflict):
    code = "article_closed"
