"""Sign up, log in, log out: the session the site, the API's consent page and the shield share."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from roost.domain import accounts as rules
from roost.domain.errors import Conflict, Invalid
from roost.services import accounts as account_service
from roost.services import sessions
from roost.web.errors import page
from roost.web.render import html
from roost.web.session import Refused, check_csrf, csrf_token, field, log_in, read_form, safe_next

COMMON_PASSWORDS = frozenset(
    {"password", "12345678", "123456789", "1234567890", "qwertyui", "qwertyuiop", "iloveyou",
     "11111111", "00000000", "abcdefgh", "password1", "passw0rd", "letmein1", "sunshine"}
)  # fmt: skip


def weak_password(password: str, username: str) -> str | None:
    """Why a new password is too weak, or None (length is the domain's rule, 8-256)."""
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 4:
        return "is too easy to guess; try a few unrelated words"
    if username and username.lower() in lowered:
        return "must not contain your username"
    return None


def _next(request: Request, value: str | None = None) -> str:
    return safe_next(value if value is not None else request.query_params.get("next"))


@page
async def login_form(request: Request) -> Response:
    if request.session.get("account_id") is not None:  # already in: go where they were going
        return RedirectResponse(_next(request), status_code=303)
    notice = "Please log in to continue." if request.query_params.get("next") else ""
    return _login_page(request, {}, {}, _next(request), notice=notice)


def _login_page(request, values, errors, next_path, status=200, notice="") -> Response:
    context = {
        "title": "Log in",
        "values": values,
        "errors": errors,
        "next": next_path,
        "notice": notice,
        "form_csrf": csrf_token(request),
    }
    return html(request, "login.html", context, status=status)


@page
async def login(request: Request) -> Response:
    form = await read_form(request)
    values = {"username": field(form, "username", 300)}
    next_path = _next(request, field(form, "next"))
    try:
        check_csrf(request, form)
    except Refused:
        message = "This form had expired. Please log in again."
        return _login_page(request, values, {"form": message}, next_path, status=403)
    ctx = request.app.state.ctx
    account = await account_service.authenticate(
        ctx.db, values["username"], field(form, "password", 300)
    )
    if account is None:
        errors = {"form": "The username or password is wrong."}
        return _login_page(request, values, errors, next_path, status=401)
    await log_in(request, account)
    return RedirectResponse(next_path, status_code=303)


@page
async def signup_form(request: Request) -> Response:
    if request.session.get("account_id") is not None:
        return RedirectResponse(_next(request), status_code=303)
    return _signup_page(request, {}, {}, _next(request))


def _signup_page(request, values, errors, next_path, status=200) -> Response:
    context = {
        "title": "Create your account",
        "values": values,
        "errors": errors,
        "next": next_path,
        "closed": not request.app.state.ctx.settings.registrations_open,
        "form_csrf": csrf_token(request),
    }
    return html(request, "signup.html", context, status=status)


@page
async def signup(request: Request) -> Response:
    form = await read_form(request)
    values = {k: field(form, k, 300) for k in ("username", "display_name", "email")}
    next_path = _next(request, field(form, "next"))
    try:
        check_csrf(request, form)
    except Refused:
        errors = {"form": "This form had expired. Please check it and send it again."}
        return _signup_page(request, values, errors, next_path, status=403)
    ctx = request.app.state.ctx
    if not ctx.settings.registrations_open:
        return _signup_page(request, values, {}, next_path, status=403)
    password = field(form, "password", 300)
    async with ctx.db.read() as conn:
        errors = await _sign_up_problems(conn, values, password)
    if errors:
        return _signup_page(request, values, errors, next_path, 422)
    try:
        account = await account_service.register(
            ctx, values["username"], values["email"] or None, password,
            display_name=values["display_name"],
        )  # fmt: skip
    except (Invalid, Conflict) as exc:
        return _signup_page(request, values, {_field_of(exc): f"{exc.message}."}, next_path, 422)
    await log_in(request, account)
    request.session["flash"] = f"Welcome to {ctx.settings.instance_name}, @{account['username']}!"
    return RedirectResponse(next_path, status_code=303)


async def _sign_up_problems(conn, values: dict[str, str], password: str) -> dict[str, str]:
    """Every field's problem at once, before the costly password hash: ``register`` stops at
    the first, and the shield allows only a few sign-up tries, so a person should not spend a
    try per mistake (a taken name *and* a weak password are both shown)."""
    errors: dict[str, str] = {}
    try:
        name = rules.check_new_username(values["username"])
        if await account_service.by_username(conn, name) is not None:
            errors["username"] = "Username is already taken."
    except Invalid as exc:
        errors["username"] = f"{exc.message}."
    try:
        rules.check_display_name(values["display_name"])
    except Invalid as exc:
        errors["display_name"] = f"{exc.message}."
    if values["email"]:
        try:
            if await account_service.email_taken(conn, rules.check_email(values["email"])):
                errors["email"] = "Email is already taken."
        except Invalid as exc:
            errors["email"] = f"{exc.message}."
    low, high = rules.MIN_PASSWORD, rules.MAX_PASSWORD
    if not low <= len(password) <= high:
        errors["password"] = f"Password must be {low}-{high} characters."
    elif problem := weak_password(password, values["username"]):
        errors["password"] = f"Password {problem}."
    return errors


def _field_of(exc: Invalid | Conflict) -> str:
    if isinstance(exc, Invalid):
        return exc.field
    return "email" if "mail" in exc.message.lower() else "username"


@page
async def logout_form(request: Request) -> Response:
    return html(request, "logout.html", {"title": "Log out"})


@page
async def logout(request: Request) -> Response:
    form = await read_form(request)
    if request.session.get("account_id") is not None:
        check_csrf(request, form)
        async with request.app.state.ctx.db.write() as tx:
            await sessions.end(tx, request.session.get("sid"))  # a kept copy is dead too
    request.session.clear()
    return RedirectResponse("/", status_code=303)
