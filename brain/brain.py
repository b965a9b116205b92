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
from pathlib import Path
from typing import TYPE_CHECKING

from brain import sandbox
from brain.approvals import ApprovalGate, RunRef
from brain.attachments import has_attachments, with_attachments
from brain.commands import no_command_reply, parse_command, unknown_command_reply
from brain.context import ContextEngine, ContextOverflowError, SkillEntry
from brain.discovery import EmbedderUnavailableError, SkillIndex, open_index
from brain.driver import TurnDriver
from brain.errors import ConfigError, FailureCode
from brain.guard.approval_store import ApprovalStore
from brain.guard.diagnosis import log_stuck
from brain.loop import Finish, ToolOutcome, TurnMachine, TurnPlan
from brain.memory import Memory, MemoryStoreError, record_turn
from brain.models import Message, ModelProvider, ToolCall, ToolDef, open_provider
from brain.retrieval import pick_tool
from brain.settings import BrainSettings
from brain.skills import SkillSet, SkillTool
from brain.tools import CallContext, build_registry, workspace_dir
from brain.transcript import Transcript
from gateway.events import (
    ApprovalDecision,
    FinalReply,
    ReplyEvent,
    Resumption,
    SkillSummary,
    TextDelta,
    TurnFailed,
    TurnRequest,
)
from registry.lockfile import LOCKFILE_NAME

if TYPE_CHECKING:
    from gateway.bus import Brain as BusBrain

__all__ = ["Brain"]

log = logging.getLogger(__name__)

_COMMAND_CALL_ID = "cmd_0"
# What a continued turn's plan starts from: its shape comes from the saved turn.
_RESUMED = TurnPlan(system_prompt="", history=(), user_text="")
_Begun = tuple[TurnRequest, TurnMachine] | list[ReplyEvent]


class Brain:
    """Use :meth:`open`; call :meth:`aclose` when done."""

    def __init__(
        self,
        settings: BrainSettings,
        *,
        provider: ModelProvider,
        skills: SkillSet,
        transcript: Transcript,
        memory: Memory | None = None,
        index: SkillIndex | None = None,
        approvals: ApprovalStore | None = None,
    ) -> None:
        self._settings = settings
        self._provider = provider
        self._transcript = transcript
        store = approvals or ApprovalStore.open(settings.data_dir / "state.db")
        self._approvals = ApprovalGate(store)
        # Opening creates nothing on disk; the memory tools write per user on demand.
        limits = settings.context.block_limits
        self._memory = memory or Memory.open(settings.data_dir, block_limits=limits)
        self._use_skills(skills, index or SkillIndex.build(skills.skills.values()))
        self._installed_stamp = _stamp(settings.data_dir)
        self._reloading = asyncio.Lock()
        self._context = ContextEngine.from_settings(
            settings, memory=self._memory, transcript=transcript, provider=provider
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
            index = await asyncio.to_thread(_open_index, settings, skills)
            transcript = Transcript.open(settings.data_dir / "state.db")
        except BaseException:
            await provider.aclose()
            raise
        log.info("brain: model %s, %d skills, sandbox %s", settings.model, len(skills.skills), mode)
        if mode is not sandbox.SandboxMode.BWRAP:
            log.warning("skill tools are NOT isolated by bubblewrap here (sandbox mode %s)", mode)
        return cls(settings, provider=provider, skills=skills, transcript=transcript, index=index)

    def _use_skills(self, skills: SkillSet, index: SkillIndex) -> None:
        """Switch to ``skills``; everything derived from them is rebuilt together."""
        self._skills = skills
        self._index = index
        # Fixed while the skills are (SkillSet is immutable); per turn they cost O(skills).
        self._tool_skills = sum(1 for s in skills.skills.values() if s.tools)
        self._command_tools = skills.command_tool_names()
        self._tools = build_registry(self._settings, skills, memory=self._memory)

    async def reload_skills_if_changed(self) -> bool:
        """Pick up skills installed, updated or removed since the last look (the
        installer rewrites the lockfile each time); True if they were reloaded."""
        stamp = _stamp(self._settings.data_dir)
        if stamp == self._installed_stamp:
            return False
        async with self._reloading:
            if stamp == self._installed_stamp:
                return False
            skills = await asyncio.to_thread(SkillSet.load, self._settings.skill_dirs)
            index = await asyncio.to_thread(_open_index, self._settings, skills)
            self._use_skills(skills, index)
            self._installed_stamp = stamp
        log.info("brain: skills changed on disk; %d skills now", len(skills.skills))
        return True

    async def aclose(self) -> None:
        try:
            await self._provider.aclose()
        finally:
            self._transcript.close()
            self._approvals.close()

    @property
    def sandbox_mode(self) -> str:
        return sandbox.sandbox_mode().value

    @property
    def settings(self) -> BrainSettings:
        return self._settings

    @property
    def memory(self) -> Memory:
        return self._memory

    def list_skills(self) -> Sequence[SkillSummary]:
        return self._skills.summaries()  # may lag an install until the next turn

    async def resolve_approval(
        self, request_id: str, decision: ApprovalDecision, *, decided_by: str
    ) -> bool:
        return self._approvals.resolve(request_id, decision, decided_by=decided_by)

    async def resumptions(self) -> Sequence[Resumption]:
        """Turns saved at an approval that no run of this process continues."""
        return [Resumption(r.session, r.user, r.request_id) for r in self._approvals.resumable()]

    def drain(self) -> None:
        """Shutdown begins: turns stopped from now on keep their approval requests,
        to continue after the restart (see ``brain.approvals``)."""
        self._approvals.drain()

    async def run_turn(self, request: TurnRequest) -> AsyncGenerator[ReplyEvent, None]:
        """Answer ``request``: events end with ``FinalReply`` or ``TurnFailed``."""
        try:
            await self.reload_skills_if_changed()
            start = await self._begin(request)
        except ContextOverflowError as exc:
            start = [TurnFailed(request.run_id, FailureCode.BAD_REQUEST.value, str(exc))]
        except Exception:
            log.exception("run %s: cannot plan the turn", request.run_id)
            start = [TurnFailed(request.run_id, FailureCode.INTERNAL.value, "internal error")]
        if isinstance(start, list):
            for event in start:
                yield event
            return
        request, machine = start
        run = RunRef(request.run_id, request.session, request.conversation_id, request.user)
        driver = TurnDriver(
            run_id=request.run_id,
            conversation_id=request.conversation_id,
            provider=self._provider,
            execute=lambda call: self._execute(call, request),
            approvals=self._approvals.for_run(run, resume=request.resume),
            on_finish=lambda finish: self._save(request, finish),
            on_stuck=lambda diagnosis, messages: self._log_stuck(request, diagnosis, messages),
        )
        async with aclosing(driver.run(machine)) as events:
            async for event in events:
                yield event

    # -- guardrails ----------------------------------------------------------

    async def _begin(self, request: TurnRequest) -> _Begun:
        """The machine for this run (a new turn, or one saved at an approval), or its answer."""
        if request.resume is not None:
            return self._continue(request, request.resume)
        start = await self._start(request)
        return start if isinstance(start, list) else (request, TurnMachine(self._guarded(start)))

    def _continue(self, request: TurnRequest, request_id: str) -> _Begun:
        try:
            saved, machine = self._approvals.restore(request_id, self._guarded(_RESUMED))
        except LookupError as exc:
            return [TurnFailed(request.run_id, FailureCode.BAD_REQUEST.value, str(exc))]
        # The saved turn's conversation and user, whatever the gateway now holds.
        where = replace(request, session=saved.session, conversation_id=saved.conversation_id)
        return replace(where, user=saved.user), machine

    def _guarded(self, plan: TurnPlan) -> TurnPlan:
        guard = self._settings.guard
        return replace(
            plan,
            permissions=guard.permissions,
            risk_of=self._risk_of,
            budgets=guard.budgets,
            stuck=guard.stuck,
            max_requeries=guard.max_requeries,
        )

    def _risk_of(self, call: ToolCall) -> str:
        return str(self._tools.risk_of(call))

    def _log_stuck(self, request: TurnRequest, diagnosis: str, messages: Sequence[Message]) -> None:
        log_ = self._memory.session_log(request.conversation_id)
        log_stuck(log_, goal=request.text, messages=messages, diagnosis=diagnosis)

    # -- planning ------------------------------------------------------------

    async def _start(self, request: TurnRequest) -> TurnPlan | list[ReplyEvent]:
        """The plan for this turn, or the whole answer when no plan is needed."""
        text, run_id = request.text, request.run_id
        if has_attachments(request):
            workspace = workspace_dir(self._settings.data_dir, request.session)
            text = await asyncio.to_thread(with_attachments, request, workspace)
        limit = self._settings.max_input_chars
        if len(text) > limit:
            message = f"message longer than {limit} characters"
            return [TurnFailed(run_id, FailureCode.BAD_REQUEST.value, message)]
        command = parse_command(text)
        if command is None:
            return await self._model_plan(request, text)
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

    async def _model_plan(self, request: TurnRequest, text: str) -> TurnPlan:
        chooses = self._provider.capabilities.chooses_tools
        options = self._settings.context
        catalog: Sequence[SkillEntry] = ()  # a model that cannot choose gets one forced tool
        if chooses:
            k, budget = options.catalog_entries, options.catalog_tokens
            catalog = self._index.catalog(text, k=k, budget_tokens=budget)
        context = await self._context.prepare(
            conversation_id=request.conversation_id,
            user=request.user,
            system_prompt=self._settings.system_prompt,
            user_text=text,
            catalog=catalog,
        )
        plan = TurnPlan(
            system_prompt=context.built.system,
            history=context.built.history,
            user_text=text,
            needs_approval=self._settings.approval_required_tools,
            max_steps=self._settings.max_steps,
        )
        if chooses:
            return _with_tools(plan, self._tools.offered(t.name for t in self._offered(text)))
        # A model that cannot choose gets the best matching skill's tool, forced,
        # and the tool's own text is the reply: a 135M model paraphrasing a
        # result changes numbers (measured), so it only fills the arguments.
        tool = self._forced(text)
        if tool is None:
            return plan
        chosen = tool.definition()
        return _with_tools(plan, (chosen,), forced=chosen.name)

    def _offered(self, text: str) -> list[SkillTool]:
        """The tools of the best ``discovery.tool_skills`` skills for ``text``, best first."""
        limit = self._settings.discovery.tool_skills
        if self._tool_skills <= limit:  # they all fit: ranking could only hide one
            return list(self._skills.tools)
        hits = self._index.search(text, limit)
        return [t for h in hits for t in self._skills.tools_of(h.name)]

    def _forced(self, text: str) -> SkillTool | None:
        """The tool of the best skill for ``text`` if it matches well enough, else None."""
        found = self._settings.discovery
        for hit in self._index.search(text, found.tool_skills):
            if not hit.relevant(min_lexical=found.min_score, min_similarity=found.min_similarity):
                continue
            tools = self._skills.tools_of(hit.name)
            if tools:
                return pick_tool(text, tools, self._command_tools)
        return None

    # -- effects -------------------------------------------------------------

    async def _execute(self, call: ToolCall, request: TurnRequest) -> ToolOutcome:
        context = CallContext(user=request.user, session=request.session)
        return await self._tools.execute(call, context)

    def _save(self, request: TurnRequest, finish: Finish) -> None:
        self._transcript.append(request.conversation_id, finish.new_messages, now=time.time())
        log_ = self._memory.session_log(request.conversation_id)
        try:
            record_turn(log_, goal=request.text, messages=finish.new_messages, reply=finish.text)
        except (MemoryStoreError, OSError):  # the transcript is saved; the log is a record of it
            log.exception("run %s: cannot append to the session log %s", request.run_id, log_.path)


def _stamp(data_dir: Path) -> tuple[int, int] | None:
    """When the lockfile of installed skills last changed (a stat: cheap per turn)."""
    try:
        status = (data_dir / "skills" / LOCKFILE_NAME).stat()
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size)


def _open_index(settings: BrainSettings, skills: SkillSet) -> SkillIndex:
    try:
        return open_index(
            skills.skills.values(),
            embeddings=settings.discovery.embeddings,
            cache_dir=settings.data_dir / "cache" / "discovery",
        )
    except EmbedderUnavailableError as exc:
        raise ConfigError("discovery.embeddings", str(exc)) from exc


def _with_tools(
    plan: TurnPlan, tools: tuple[ToolDef, ...], *, forced: str | None = None
) -> TurnPlan:
    return replace(plan, tools=tools, forced_tool=forced, answer_from_tool=forced is not None)


if TYPE_CHECKING:

    def _conforms(brain: Brain) -> BusBrain:
        """mypy: ``Brain`` implements the gateway's ``Brain`` protocol."""
        return brain
