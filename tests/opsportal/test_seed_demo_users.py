"""seed_demo_users: one working account per role, with fresh passwords on every run."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEntry
from core.roles import Role, role_of

EXPECTED = {
    "viewer": ("Viewer", Role.VIEWER),
    "operator": ("Operator", Role.OPERATOR),
    "approver": ("Approver", Role.APPROVER),
    "approver2": ("Approver", Role.APPROVER),
    "admin": ("Admin", Role.ADMIN),
}


def _seed() -> dict[str, tuple[str, str]]:
    out = StringIO()
    call_command("seed_demo_users", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0].split() == ["username", "role", "password"]
    return {u: (r, p) for u, r, p in (line.split() for line in lines[1:])}


def _can_sign_in(client, username: str, password: str) -> bool:
    client.logout()
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session


@pytest.mark.django_db
def test_creates_one_user_per_role_in_the_right_group(client):
    table = _seed()

    assert set(table) == set(EXPECTED)
    for username, (group, role) in EXPECTED.items():
        user = User.objects.get(username=username)
        assert table[username][0] == group
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert role_of(user) == role
        assert not user.is_staff and not user.is_superuser
        password = table[username][1]
        assert len(password) >= 20
        assert password not in user.password


@pytest.mark.django_db
def test_printed_passwords_work(client):
    table = _seed()
    assert _can_sign_in(client, "approver2", table["approver2"][1])
    assert client.get(reverse("audit:list")).status_code == 200


@pytest.mark.django_db
def test_rerunning_resets_passwords_and_groups(client):
    first = _seed()
    User.objects.get(username="viewer").groups.clear()

    second = _seed()

    assert all(first[u][1] != second[u][1] for u in EXPECTED)
    assert User.objects.filter(username__in=EXPECTED).count() == len(EXPECTED)
    assert role_of(User.objects.get(username="viewer")) == Role.VIEWER
    assert not _can_sign_in(client, "operator", first["operator"][1])
    assert _can_sign_in(client, "operator", second["operator"][1])


@pytest.mark.django_db
def test_seeding_is_audited_without_passwords():
    table = _seed()

    entries = AuditEntry.objects.filter(action="user.seed")
    assert {e.target for e in entries} == {f"user:{u}" for u in EXPECTED}
    stored = " ".join(str(e.canonical_payload()) for e in AuditEntry.objects.all())
    assert not any(password in stored for _, password in table.values())


@pytest.mark.django_db
def test_migrations_create_the_role_groups():
    from django.contrib.auth.models import Group

    names = set(Group.objects.values_list("name", flat=True))
    assert {"Viewer", "Operator", "Approver", "Admin"} <= names


@pytest.mark.django_db
def test_the_demo_offers_its_staged_shift_templates_once_however_often_it_is_seeded():
    from shifts.models import PlanTemplate

    _seed()
    _seed()
    templates = {t.name: t for t in PlanTemplate.objects.all()}
    assert set(templates) == {"Careful canary", "Quick demo canary"}
    assert all(t.endpoint is None for t in templates.values())
    steps = templates["Careful canary"].spec["steps"]
    assert [s["candidate_percent"] for s in steps] == [5, 25, 50, 100]
    assert [s["manual"] for s in steps] == [False, False, True, False]
