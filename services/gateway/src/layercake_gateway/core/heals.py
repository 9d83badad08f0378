"""The heal policy: after a failed attempt, heal (the next attempt) or escalate.

Core: no I/O. A part of the `Project` aggregate (as `IntakeAndRelease` is): a
failed build or an answer with nothing usable in it uses an attempt of the
round's budget (`heal_limit`); a build that could not run is built again
(`retries`); an agent that could not answer is asked again while retries
last. Past each, the role is escalated. The events keep the topics they were
first stored under (`core/topics.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate, event

from layercake_contracts.values import EscalationKind, Gate, Role
from layercake_gateway.core.attempts import (
    build_facts,
    build_outcome,
    earlier_attempt,
    no_edits_outcome,
)
from layercake_gateway.core.gates import role_key
from layercake_gateway.core.topics import keep_topics, stored_as


@dataclass(frozen=True)
class HealDecision:
    """What the heal policy decided after a failed attempt."""

    heal: bool
    next_attempt: int
    reason: str


@keep_topics
class Heals(Aggregate):
    """Failed attempts, faulted builds and failed agents, over the state `Project` keeps."""

    # What `Project` keeps and does, for the type checker only: at runtime an annotation
    # here would make the library treat this part as an aggregate of its own.
    if TYPE_CHECKING:
        heal_limit: int
        attempts: dict[str, int]
        first_attempts: dict[str, int]
        build_retries: dict[str, int]
        agent_retries: dict[str, int]
        manifests: dict[str, dict[str, Any]]
        answers: dict[str, dict[str, Any]]
        last_builds: dict[str, dict[str, Any]]
        history: dict[str, list[dict[str, Any]]]
        errors: list[dict[str, Any]]

        def base_for(self, gate: Gate, role: Role) -> dict[str, Any]:
            """Where a role's next try at `gate` starts."""

        def _escalate(
            self, gate: str, role: str, attempt: int, reason: str, at: str, kind: EscalationKind
        ) -> None: ...

    def record_failure(
        self,
        gate: Gate,
        role: Role,
        attempt: int,
        errors: list[dict[str, Any]],
        at: str,
        manifest: dict[str, Any] | None = None,
        build: dict[str, Any] | None = None,
    ) -> HealDecision:
        """A role's attempt failed: keep its errors, then heal (attempt + 1) or escalate.

        `build` (core/attempts.py's `build_facts`) is what the failed build said; the
        heal shows it, with what that attempt's answer changed.
        """
        key = role_key(gate, role)
        build = build or build_facts(None, None, errors)
        answer = self.answers.get(key)
        if answer is not None and answer["attempt"] != attempt:
            answer = None  # an earlier answer's: this attempt's tree came from elsewhere
        entry = earlier_attempt(attempt, answer, build, build_outcome(build))
        history = [*self.history.get(key, []), entry]
        heal, reason = self._heal_or_not(gate, role, attempt)
        tree = manifest or self.base_for(gate, role)  # a build that names no tree erases none
        self._failed(gate.value, role.value, attempt, errors, at, heal, reason, tree, build,
                     answer, history)  # fmt: skip
        return HealDecision(heal=heal, next_attempt=attempt + 1, reason=reason)

    def record_refused(
        self, gate: Gate, role: Role, attempt: int, answer: dict[str, Any], at: str
    ) -> HealDecision:
        """Nothing usable came of an answer: an attempt used, the last build's facts kept.

        The next heal starts from the tree the last one was given, shows the last
        build's failure again, and says why the parser got nothing.
        """
        key = role_key(gate, role)
        errors = [{"tool": "parser", "file": r["path"], "message": r["reason"]}
                  for r in answer["rejected"]]  # fmt: skip
        entry = earlier_attempt(attempt, answer, None, no_edits_outcome(answer))
        history = [*self.history.get(key, []), entry]
        heal, reason = self._heal_or_not(gate, role, attempt)
        base = self.base_for(gate, role)
        self._failed(gate.value, role.value, attempt, errors, at, heal, reason, base,
                     self.last_builds.get(key), answer, history)  # fmt: skip
        return HealDecision(heal=heal, next_attempt=attempt + 1, reason=reason)

    def record_build_fault(  # the facts of one build, and the policy's limit
        self,
        gate: Gate,
        role: Role,
        attempt: int,
        fault: dict[str, str],
        manifest: dict[str, Any],
        at: str,
        retries: int,
    ) -> HealDecision:
        """A build could not run for a reason outside the project: build again, then escalate.

        No heal: the model is not asked, and the attempt does not count.
        """
        tries = self.build_retries.get(role_key(gate, role), 0) + 1
        retry = tries <= retries
        cause = f"{fault['cause']}: {fault['detail']}"
        why = (
            f"build retry {tries} of {retries} after an infrastructure fault, {cause}"
            if retry
            else f"the build could not run, {tries} times, for a reason outside the project, "
            f"{cause}"
        )
        self._build_faulted(gate.value, role.value, attempt, fault, why, retry, tries, at,
                            manifest)  # fmt: skip
        return HealDecision(heal=False, next_attempt=attempt, reason=why)

    def _heal_or_not(self, gate: Gate, role: Role, attempt: int) -> tuple[bool, str]:
        """Heal while the round's budget lasts; a round begins at its first attempt."""
        if role is Role.USER:  # a person's own files: they mend them, no agent does
            return False, "the files a person wrote failed; they are theirs to mend"
        first = self.first_attempts.get(role_key(gate, role), 1)
        used = attempt - first + 1
        heal = used < self.heal_limit
        count = f"attempt {attempt}" if first == 1 else f"attempt {attempt} ({used} this round)"
        reason = (
            f"{count} of {self.heal_limit} failed"
            if heal
            else f"{used} attempts failed{'' if first == 1 else f' since attempt {first}'}; "
            f"the heal limit is {self.heal_limit}"
        )
        return heal, reason

    def record_agent_failure(
        self, gate: Gate, role: Role, attempt: int, reason: str, *, retryable: bool, at: str
    ) -> HealDecision:
        """An agent could not answer: ask again (after a wait) while retries last, else escalate."""
        key = role_key(gate, role)
        tries = self.agent_retries.get(key, 0) + 1
        retry = retryable and tries <= self.heal_limit
        why = (
            f"agent failure {tries} of {self.heal_limit} allowed: {reason}"
            if retry
            else f"the agent cannot go on ({'retries used up' if retryable else 'not retryable'}): "
            f"{reason}"
        )
        base = self.base_for(gate, role)
        self._agent_failed(gate.value, role.value, attempt, why, retry, tries, at, base)
        return HealDecision(heal=retry, next_attempt=attempt, reason=why)

    # -- state changes (these bodies run again on replay) -----------------------

    @event("AttemptFailed", topic=stored_as("AttemptFailed"))
    def _failed(  # noqa: PLR0913, PLR0917  # the recorded facts of a failed attempt
        self,
        gate: str,
        role: str,
        attempt: int,
        errors: list[dict[str, Any]],
        at: str,
        heal: bool,
        reason: str,
        manifest: dict[str, Any],
        build: dict[str, Any] | None = None,  # recorded for the heal's announcement, and kept
        answer: dict[str, Any] | None = None,  # recorded for the heal's announcement
        history: list[dict[str, Any]] | None = None,  # None: recorded before history was kept
    ) -> None:
        del answer
        key = f"{gate}/{role}"
        for error in errors:
            self.errors.append(
                {**error, "gate": gate, "role": role, "attempt": attempt, "at": at,
                 "resolved_at": None}
            )  # fmt: skip
        self.manifests[key] = manifest
        if build is not None:
            self.last_builds[key] = build
        if history is not None:
            self.history[key] = history
        self.build_retries.pop(key, None)
        if heal:
            self.attempts[key] = attempt + 1
        elif role != Role.USER:
            self._escalate(gate, role, attempt, reason, at, EscalationKind.HEAL_LIMIT)

    @event("BuildFaulted", topic=stored_as("BuildFaulted"))
    def _build_faulted(  # noqa: PLR0913, PLR0917  # the recorded facts of a build that could not run
        self,
        gate: str,
        role: str,
        attempt: int,
        fault: dict[str, str],
        reason: str,
        retry: bool,
        tries: int,
        at: str,
        manifest: dict[str, Any],
    ) -> None:
        key = f"{gate}/{role}"
        self.build_retries[key] = tries
        self.manifests[key] = manifest
        self.errors.append(
            {"tool": "builder", "message": reason, "fault": fault["cause"], "gate": gate,
             "role": role, "attempt": attempt, "at": at, "resolved_at": None}
        )  # fmt: skip
        if not retry:
            self._escalate(gate, role, attempt, reason, at, EscalationKind.INFRASTRUCTURE)

    @event("AgentFailed", topic=stored_as("AgentFailed"))
    def _agent_failed(  # the recorded facts of a failure
        self,
        gate: str,
        role: str,
        attempt: int,
        reason: str,
        retry: bool,
        tries: int,
        at: str,
        base: dict[str, Any] | None = None,
    ) -> None:
        del base  # recorded for the announcement of the retry; no state to change
        self.agent_retries[f"{gate}/{role}"] = tries
        self.errors.append(
            {"tool": "agent", "message": reason, "gate": gate, "role": role, "attempt": attempt,
             "at": at, "resolved_at": None}
        )  # fmt: skip
        if not retry:
            self._escalate(gate, role, attempt, reason, at, EscalationKind.AGENT)
