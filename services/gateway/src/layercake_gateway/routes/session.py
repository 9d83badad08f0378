"""Sign-in links a person opens in a browser: a one-time code in, a session cookie out.

`POST /signin-links` mints a link for the caller (the CLI's `layercake link`
asks it). `GET /signin?code=…&next=…` spends the code: its id goes on the
ledger's deny list first, so it opens once on every gateway of the store. Then
it sets the session cookie (a normal expiring token, `core/session.py` says
how) and redirects (303) to `next`. It must never take a bearer token from a
URL, nor send the browser off this gateway.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated

import structlog
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from layercake_gateway.core.session import (
    DEFAULT_NEXT,
    MAX_NEXT_CHARS,
    UnsafeNext,
    safe_next,
    session_cookie,
)
from layercake_gateway.core.tokens import Unauthenticated, utc_text
from layercake_gateway.dependencies import LedgerDep, User  # noqa: TC001  # FastAPI reads the annotations at runtime
from layercake_gateway.guard import issue_signin_code, issue_token, read_code
from layercake_gateway.responses import CHANGING

router = APIRouter(tags=["session"])
log = structlog.get_logger(__name__)
MAX_CODE_CHARS = 4_096
# The link was in a URL: it must not be kept by a cache, nor passed on as a Referer.
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _same_origin(path: str) -> str:
    try:
        return safe_next(path)
    except UnsafeNext as exc:
        raise ValueError(exc.reason) from exc


NextPath = Annotated[str, AfterValidator(_same_origin)]


class LinkWanted(BaseModel):
    """Where a sign-in link leads once opened."""

    model_config = ConfigDict(extra="forbid")

    next: NextPath = Field(
        default=DEFAULT_NEXT, max_length=MAX_NEXT_CHARS, description="a path on this gateway"
    )


class SigninLink(BaseModel):
    """A one-time sign-in link: open it in a browser before it expires."""

    url: str
    next: str
    jti: str = Field(description="the code's id; `layercake token revoke JTI` withdraws it")
    expires_at: str


@router.post("/signin-links", status_code=status.HTTP_201_CREATED, responses=CHANGING)
async def create_signin_link(request: Request, body: LinkWanted, who: User) -> SigninLink:
    """A link that signs `who` in once, in a browser, and leads to `next`."""
    code, claims = issue_signin_code(request.app.state.jwt_secret, who)
    url = request.url_for("sign_in").include_query_params(code=code, next=body.next)
    return SigninLink(
        url=str(url), next=body.next, jti=claims.jti, expires_at=utc_text(claims.expires_at)
    )


@router.get(
    "/signin",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
    responses={401: {"description": "The code is forged, expired, used already or not a code."}},
)
async def sign_in(
    request: Request,
    ledger: LedgerDep,
    code: Annotated[str | None, Query(max_length=MAX_CODE_CHARS)] = None,
    next: Annotated[NextPath, Query(max_length=MAX_NEXT_CHARS)] = DEFAULT_NEXT,  # noqa: A002  # the parameter's name in the link
) -> RedirectResponse:
    """Spend a one-time sign-in code, set the session cookie, and redirect (303) to `next`."""
    secret = request.app.state.jwt_secret
    if not code:  # the code is this route's credential: none is a 401, as elsewhere
        detail = "a sign-in code is required (`layercake link PROJECT` prints a link)"
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail, _PRIVATE)
    try:
        claims = read_code(code, secret)
    except Unauthenticated as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, exc.reason, _PRIVATE) from exc
    # Spent before the session exists: a second use, on any gateway of the store, is refused.
    if not await asyncio.to_thread(ledger.revoke, claims.jti, claims.user):
        detail = f"the sign-in code {claims.jti} was used already (or revoked): ask for a new link"
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail, _PRIVATE)
    lifetime_s = request.app.state.session_ttl_s
    token, session = issue_token(secret, claims.user, lifetime_s)
    cookie = session_cookie(token, lifetime_s, https=request.url.scheme == "https")
    response = RedirectResponse(next, status.HTTP_303_SEE_OTHER, headers=_PRIVATE)
    response.set_cookie(**asdict(cookie))
    log.info("signed_in", user=claims.user, code=claims.jti, session=session.jti)
    return response
