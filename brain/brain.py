"""``Brain``: the object the gateway's composition root builds and the bus calls.

It owns the provider, the loaded skills, the transcript store and the
approval gate, and turns each ``TurnRequest`` into a ``TurnPlan`` for the
step machine (``brain.loop``), which the async driver (``brain.driver``) runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import replace
from typing import TYPE_CHECKING

from brain import sandbox
from brain.approvals import ApprovalGate
from brain.commands import no_command_reply, parse_command, unknown_command_reply
from brain.driver import TurnDriver
from brain.errors import FailureCode
from brain.loop import Finish, ToolOutcome, TurnMachine, TurnPlan
from brain.models import ModelProvider, ToolCall, ToolDef, open_provider
from brain.retrieval import best_match
from brain.settings import BrainSettings
from brain.skills import SkillSet
from brain.tools import ToolRunner
from brain.transcript import Transcript
from gateway.events import (
    ApprovalDecision,
    FinalReply,
    ReplyEvent,
    SkillSummary,
    TextDelta,
    TurnFailed,
    TurnRequest,
)

if TYPE_CHECKING:
    from gateway.bus import Brain as BusBrain

__all__ = ["Brain"]

log = logging.getLogger(__name__)

_COMMAND_CALL_ID = "cmd_0"


class Brain:
    """Use :meth:`open`; call :meth:`aclose` when done."""

    def __init__(
        self,
        settings: BrainSettings,
        *,
        provider: ModelProvider,
        skills: SkillSet,
        transcript: Transcript,
    ) -> None:
        self._settings = settings
        self._provider = provider
        self._skills = skills
        self._transcript = transcript
        self._approvals = ApprovalGate()
        self._tools = ToolRunner(
            skills,
            data_dir=settings.data_dir,
            env=settings.skill_env,
            hidden_paths=settings.sandbox_hidden_paths,
        )

    @classmethod
    async def open(cls, settings: BrainSettings) -> Brain:
        """Prepare the provider, load skills, open the transcript.

        Raises a ``ConfigError`` naming the setting for a bad model spec, a
        missing local model or an unreadable script.
        """
        provider = open_provider(settings)
        try:
            mode = await asyncio.to_thread(sandbox.sandbox_mode)  # probes bwrap once; blocking
            skills = await asyncio.to_thread(SkillSet.load, settings.skill_dirs)
            transcript = Transcript.open(settings.data_dir / "state.db")
        except BaseException:
            await provider.aclose()
            raise
        log.info("brain: model %s, %d skills, sandbox %s", settings.model, len(skills.skills), mode)
        if mode is not sandbox.SandboxMode.BWRAP:
            log.warning("skill tools are NOT isolated by bubblewrap here (sandbox mode %s)", mode)
        return cls(settings, provider=provider, skills=skills, transcript=transcript)

    async def aclose(self) -> None:
        try:
            await self._provider.aclose()
        finally:
            self._transcript.close()

    @property
    def sandbox_mode(self) -> str:
        return sandbox.sandbox_mode().value

    @property
    def settings(self) -> BrainSettings:
        return self._settings

    def list_skills(self) -> Sequence[SkillSummary]:
        return self._skills.summaries()

    async def resolve_approval(
        self, request_id: str, decision: ApprovalDecision, *, decided_by: str
    ) -> bool:
        return self._approvals.resolve(request_id, decision, decided_by=decided_by)

    async def run_turn(self, request: TurnRequest) -> AsyncGenerator[ReplyEvent, None]:
        """Answer ``request``: events end with ``FinalReply`` or ``TurnFailed``."""
        try:
            start = self._start(request)
        except Exception:
            log.exception("run %s: cannot plan the turn", request.run_id)
            start = [TurnFailed(request.run_id, FailureCode.INTERNAL.value, "internal error")]
        if isinstance(start, list):
            for event in start:
                yield event
            return
        driver = TurnDriver(
            run_id=request.run_id,
            conversation_id=request.conversation_id,
            provider=self._provider,
            execute=lambda call: self._execute(call, request),
            approvals=self._approvals,
            on_finish=lambda finish: self._save(request, finish),
        )
        async with aclosing(driver.run(TurnMachine(start))) as events:
            async for event in events:
                yield event

    # -- planning ------------------------------------------------------------

    def _start(self, request: TurnRequest) -> TurnPlan | list[ReplyEvent]:
        """The plan for this turn, or the whole answer when no plan is needed."""
        text, run_id = request.text, request.run_id
        limit = self._settings.max_input_chars
        if len(text) > limit:
            message = f"message longer than {limit} characters"
            return [TurnFailed(run_id, FailureCode.BAD_REQUEST.value, message)]
        command = parse_command(text)
        if command is None:
            return self._model_plan(request, text)
        plan = self._command_plan(command.name, command.argument)
        if isinstance(plan, str):  # a typo deserves help, not an error
            return [TextDelta(run_id, plan), FinalReply(run_id, plan)]
        return plan

    def _command_plan(self, name: str, argument: str) -> TurnPlan | str:
        resolved = self._skills.command_tool(name)
        if resolved is None:
            if name in self._skills.skills:
                return no_command_reply(name)
            return unknown_command_reply(name, self._skills.commands())
        tool, argument_name = resolved
        call = ToolCall(_COMMAND_CALL_ID, tool.name, {argument_name: argument})
        return TurnPlan(
            system_prompt=self._settings.system_prompt,
            history=(),
            user_text=f"/{name} {argument}".rstrip(),
            command=call,
            needs_approval=self._settings.approval_required_tools,
        )

    def _model_plan(self, request: TurnRequest, text: str) -> TurnPlan:
        history = self._transcript.recent(request.conversation_id, self._settings.history_limit)
        plan = TurnPlan(
            system_prompt=self._settings.system_prompt,
            history=history,
            user_text=text,
            needs_approval=self._settings.approval_required_tools,
            max_steps=self._settings.max_steps,
        )
        tools = self._skills.tools
        if self._provider.capabilities.chooses_tools:
            return _with_tools(plan, tuple(t.definition() for t in tools))
        # A model that cannot choose gets the best lexical match, forced, and the
        # tool's own text is the reply: a 135M model paraphrasing a result
        # changes numbers (measured), so it only fills the arguments.  Command
        # tools come first so that they win ties: one free-text argument is the
        # easiest for a small model to fill.
        commands = self._skills.command_tool_names()
        tools = tuple(sorted(tools, key=lambda t: t.name not in commands))
        index = best_match(text, [t.search_text() for t in tools])
        if index is None:
            return plan
        chosen = tools[index].definition()
        return _with_tools(plan, (chosen,), forced=chosen.name)

    # -- effects -------------------------------------------------------------

    async def _execute(self, call: ToolCall, request: TurnRequest) -> ToolOutcome:
        return await self._tools.run(call, user=request.user, session=request.session)

    def _save(self, request: TurnRequest, finish: Finish) -> None:
        self._transcript.append(request.conversation_id, finish.new_messages, now=time.time())


def _with_tools(
    plan: TurnPlan, tools: tuple[ToolDef, ...], *, forced: str | None = None
) -> TurnPlan:
    return replace(plan, tools=tools, forced_tool=forced, answer_from_tool=forced is not None)


if TYPE_CHECKING:

    def _conforms(brain: Brain) -> BusBrain:
        """mypy: ``Brain`` implements the gateway's ``Brain`` protocol."""
        return brain
