"""Traffic-shift writes, by transition group: proposals (propose, edit, emergency),
decisions (approve, reject, cancel, acknowledge), apply and verify, and the beat sweeps.

Every step runs through `transitions.py`: the proposal row is locked before its state is
looked at, the shift policy is asked, a refusal is audited in a transaction that commits
before `Refused` is raised, the state moves only along `models.TRANSITIONS` with one
timeline row and one audit entry per move, and follow-up tasks are enqueued on commit.

Why the apply cannot happen twice: under the row lock it checks the proposal is `approved`
with no `update_sent_at`, sets that marker and moves to `applying`, and commits; only then
is UpdateEndpointWeightsAndCapacities sent. A second approval, a redelivered task or the
sweeper finds `applying` (or the marker) and does nothing. A crash between the commit and
the call leaves `applying` with no update: the poll sees the old weights and records
`failed`, never a second update.
"""

from shifts.services.apply import shift_apply, shift_poll
from shifts.services.changes import change_emergency, change_propose
from shifts.services.decisions import (
    shift_acknowledge,
    shift_approve,
    shift_cancel,
    shift_reject,
)
from shifts.services.plan_controls import plan_abort, plan_pause, plan_promote, plan_resume
from shifts.services.plan_runner import plan_tick, plan_tick_all
from shifts.services.plans import plan_propose, plan_template_save
from shifts.services.proposals import shift_emergency, shift_propose, shift_revise
from shifts.services.sweeps import shift_expire, shift_expire_due, shift_resume_stuck

__all__ = [
    "plan_abort",
    "plan_pause",
    "plan_promote",
    "plan_propose",
    "plan_resume",
    "plan_template_save",
    "plan_tick",
    "plan_tick_all",
    "change_emergency",
    "change_propose",
    "shift_acknowledge",
    "shift_apply",
    "shift_approve",
    "shift_cancel",
    "shift_emergency",
    "shift_expire",
    "shift_expire_due",
    "shift_poll",
    "shift_propose",
    "shift_reject",
    "shift_resume_stuck",
    "shift_revise",
]
