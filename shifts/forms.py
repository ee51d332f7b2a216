"""Forms for traffic shifts. They parse what a person typed into desired weights; the
rules themselves live in shifts.weights (pure) and shifts.services (state)."""

from __future__ import annotations

from typing import Any

from django import forms

from core.errors import Invalid
from core.forms import set_choices
from shifts import selectors
from shifts.selectors import ShareRow, share_rows
from shifts.weights import check_percentages, move_share, shares, validate_weights

MODE_SPLIT = "split"
MODE_MOVE = "move"


class ShiftForm(forms.Form):
    """Desired traffic split for an endpoint's production variants, as a percentage per
    variant (summing to 100) or as "move X % from A to B", with a required reason."""

    mode = forms.ChoiceField(
        choices=[
            (MODE_SPLIT, "Set each variant's share"),
            (MODE_MOVE, "Move traffic from one variant to another"),
        ],
        initial=MODE_SPLIT,
        widget=forms.RadioSelect,
    )
    move_percent = forms.FloatField(required=False, min_value=0.01, max_value=100, label="Move (%)")
    move_from = forms.ChoiceField(required=False, label="from")
    move_to = forms.ChoiceField(required=False, label="to")
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why: the approvers and the audit log read this.",
    )

    def __init__(self, *args: Any, current: dict[str, float], **kwargs: Any) -> None:
        self.current = current
        self.variants = list(current)
        initial = kwargs.setdefault("initial", {})
        now = shares(current)
        for index, name in enumerate(self.variants):
            initial.setdefault(self.share_field(index), round(now[name], 2))
        super().__init__(*args, **kwargs)
        choices = [(name, name) for name in self.variants]
        set_choices(self, "move_from", choices)
        set_choices(self, "move_to", list(reversed(choices)))
        for index, name in enumerate(self.variants):
            self.fields[self.share_field(index)] = forms.FloatField(
                required=False,
                min_value=0,
                max_value=100,
                label=name,
                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
            )

    @staticmethod
    def share_field(index: int) -> str:
        # Variant names may hold characters a field name should not; use the position.
        return f"share_{index}"

    def share_fields(self) -> list[forms.BoundField]:
        return [self[self.share_field(i)] for i in range(len(self.variants))]

    def _split(self, data: dict[str, Any]) -> dict[str, float] | None:
        desired: dict[str, float] = {}
        for index, name in enumerate(self.variants):
            value = data.get(self.share_field(index))
            if value is None:
                if self.share_field(index) not in self.errors:
                    self.add_error(self.share_field(index), f"Give {name} a share (0 to 100).")
                continue
            desired[name] = value
        if len(desired) != len(self.variants):
            return None
        try:
            check_percentages(desired)
        except Invalid as exc:
            self.add_error(None, exc.messages)
            return None
        return desired

    def _move(self, data: dict[str, Any]) -> dict[str, float] | None:
        percent = data.get("move_percent")
        if percent is None:
            if "move_percent" not in self.errors:
                self.add_error("move_percent", "How many percent of the traffic to move?")
            return None
        try:
            return move_share(
                current=self.current,
                source=data.get("move_from") or "",
                destination=data.get("move_to") or "",
                percent=percent,
            )
        except Invalid as exc:
            self.add_error(None, exc.messages)
            return None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        desired = self._move(data) if data.get("mode") == MODE_MOVE else self._split(data)
        if desired is not None:
            try:
                data["desired"] = validate_weights(
                    variants=self.variants, current=self.current, desired=desired
                )
            except Invalid as exc:
                self.add_error(None, exc.messages)
        return data

    def preview(self) -> list[ShareRow]:
        """Before/after rows for the chart: the typed split when it parses, else no change."""
        desired = None
        if self.is_bound:
            self.is_valid()  # cleans; the split previews even before a reason is typed
            desired = self.cleaned_data.get("desired") or self._partial()
        return share_rows(self.current, desired or dict(self.current))

    def _partial(self) -> dict[str, float] | None:
        """A split that parses but is not valid yet (say it adds up to 90 %) still previews."""
        data = self.cleaned_data
        if data.get("mode") == MODE_MOVE:
            return None
        values = [data.get(self.share_field(i)) for i in range(len(self.variants))]
        typed = [float(v) for v in values if v is not None]
        if len(typed) != len(values) or not any(typed):
            return None
        return dict(zip(self.variants, typed, strict=True))


class CommentForm(forms.Form):
    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ProposalFilterForm(forms.Form):
    endpoint = forms.CharField(required=False, max_length=63, label="Endpoint contains")
    state = forms.ChoiceField(required=False)
    person = forms.CharField(required=False, max_length=150, label="Person (username)")
    change = forms.ChoiceField(required=False, label="Type")
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "state", [("", "Any state"), *selectors.state_choices()])
        set_choices(self, "change", [("", "Any type"), *selectors.change_choices()])
