"""The API tokens page: the signed-in user's tokens, a form to create one (its secret
shown once, on the page that answers the creation) and a Revoke button per token."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import Conflict, Invalid
from core.forms import add_errors
from core.roles import Role, role_required
from tokens import selectors, services
from tokens.forms import TokenCreateForm


def _page(
    request: HttpRequest, form: TokenCreateForm, *, secret: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "tokens": selectors.tokens_of(user=request.user),
        "secret": secret,
        "now": timezone.now(),
    }
    return render(request, "tokens/list.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required(Role.VIEWER)
def token_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, TokenCreateForm())
    form = TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            issued = services.token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                expires_days=form.cleaned_data["expires_days"],
                request=request,
            )
        except Invalid as exc:
            add_errors(form, exc)
        else:
            return _page(request, TokenCreateForm(), secret=issued.secret, status=201)
    return _page(request, form, status=400)


@require_POST
@role_required(Role.VIEWER)
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        token = services.token_revoke(actor=request.user, token_id=pk, request=request)
    except (Invalid, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Token {token.name} revoked; it no longer works.")
    return redirect("tokens:list")
