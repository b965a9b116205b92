"""The permission pipeline: a table of calls under modes and rules, and what it decides."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from brain.errors import ConfigError
from brain.guard.permissions import (
    DEFAULT_ALLOW,
    RISK_LEVELS,
    Mode,
    PermissionPolicy,
    PermissionRequest,
    Rule,
    Verdict,
    parse_rule,
)
from brain.loop import (
    ApprovalOutcome,
    AskApproval,
    CallModel,
    Finish,
    RunTool,
    ToolOutcome,
    TurnMachine,
    TurnPlan,
)
from brain.models.base import ModelResult, ToolCall, ToolDef
from brain.tools.core import Risk
from gateway.events import ExitStatus

ALLOW, ASK, DENY = Verdict.ALLOW, Verdict.ASK, Verdict.DENY
RM = {"code": "import shutil; shutil.rmtree('/data')"}
SITE = "*.example.org"


@dataclass(frozen=True)
class Case:
    name: str
    tool: str
    risk: str
    expected: Verdict
    mode: str = "default"
    arguments: dict[str, object] = field(default_factory=dict)
    allow: tuple[str, ...] = ()
    ask: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    sensitive: bool = True  # must be paused for approval or refused

    def decide(self) -> Verdict:
        rules = {"allow": self.allow, "ask": self.ask, "deny": self.deny}
        policy = PermissionPolicy.from_config(self.mode, **rules)
        return policy.decide(PermissionRequest(self.tool, self.arguments, self.risk)).verdict


C = Case
MATRIX = [
    # default mode: the risk decides
    C("read runs", "read_file", "read", ALLOW, sensitive=False),
    C("write asks", "write_file", "write", ASK),
    C("execute asks", "run_python", "execute", ASK),
    C("network asks", "http_request", "network", ASK),
    C("destructive asks", "run_python", "destructive", ASK, arguments=RM),
    C("unknown risk asks", "mystery", "unknown", ASK),
    C("a typo in the risk asks", "mystery", "rread", ASK),
    # allow rules
    C("allow rule runs", "run_python", "execute", ALLOW, allow=("run_python",), sensitive=False),
    C("allow rule not for rm -rf", "run_python", "destructive", ASK, allow=("run_python",)),
    C("glob allow", "notes__save_note", "write", ALLOW, allow=("notes__*",), sensitive=False),
    C("glob allow misses", "notes2__save", "write", ASK, allow=("notes__*",)),
    C(
        "host allowed",
        "http_request",
        "network",
        ALLOW,
        allow=(f"http_request(host={SITE})",),
        arguments={"url": "https://api.example.org/v1"},
        sensitive=False,
    ),
    C(
        "look-alike host",
        "http_request",
        "network",
        ASK,
        allow=(f"http_request(host={SITE})",),
        arguments={"url": "https://example.org.evil.test/"},
    ),
    C(
        "bare domain is not a subdomain",
        "http_request",
        "network",
        ASK,
        allow=(f"http_request(host={SITE})",),
        arguments={"url": "https://example.org/"},
    ),
    C(
        "missing argument never matches",
        "http_request",
        "network",
        ASK,
        allow=(f"http_request(host={SITE})",),
    ),
    C(
        "malformed url has no host",
        "http_request",
        "network",
        ASK,
        allow=(f"http_request(host={SITE})",),
        arguments={"url": "http://[::1"},
    ),
    # deny rules win
    C("deny rule", "run_python", "execute", DENY, deny=("run_python",)),
    C(
        "deny beats allow",
        "run_python",
        "execute",
        DENY,
        deny=("run_python",),
        allow=("run_python",),
    ),
    C("deny beats bypass", "run_python", "read", DENY, mode="bypass", deny=("run_python",)),
    C(
        "deny on an argument",
        "http_request",
        "destructive",
        DENY,
        deny=("http_request(method=DELETE)",),
        arguments={"method": "DELETE"},
    ),
    C("deny glob on a read", "notes__list_notes", "read", DENY, deny=("notes__*",)),
    # ask rules (and skills.approval_required)
    C("ask rule on a read", "notes__delete_note", "read", ASK, ask=("notes__delete_note",)),
    C(
        "ask beats allow",
        "notes__delete_note",
        "write",
        ASK,
        ask=("notes__delete_note",),
        allow=("notes__*",),
    ),
    # modes
    C("plan refuses a read", "read_file", "read", DENY, mode="plan"),
    C(
        "plan refuses an allowed call",
        "run_python",
        "execute",
        DENY,
        mode="plan",
        allow=("run_python",),
    ),
    C(
        "bypass runs the destructive",
        "run_python",
        "destructive",
        ALLOW,
        mode="bypass",
        arguments=RM,
        sensitive=False,
    ),
    C(
        "accept_edits runs a write",
        "edit_file",
        "write",
        ALLOW,
        mode="accept_edits",
        sensitive=False,
    ),
    C("accept_edits still asks to execute", "run_python", "execute", ASK, mode="accept_edits"),
    C(
        "accept_edits asks for a destructive write",
        "write_file",
        "destructive",
        ASK,
        mode="accept_edits",
    ),
    C(
        "accept_edits obeys deny",
        "write_file",
        "write",
        DENY,
        mode="accept_edits",
        deny=("write_file",),
    ),
    C("dont_ask runs a read", "read_file", "read", ALLOW, mode="dont_ask", sensitive=False),
    C("dont_ask refuses what would ask", "write_file", "write", DENY, mode="dont_ask"),
    C(
        "dont_ask refuses an ask rule",
        "notes__delete_note",
        "read",
        DENY,
        mode="dont_ask",
        ask=("notes__delete_note",),
    ),
    C(
        "dont_ask runs an allowed call",
        "notes__save_note",
        "write",
        ALLOW,
        mode="dont_ask",
        allow=("notes__*",),
        sensitive=False,
    ),
    C(
        "dont_ask refuses the destructive",
        "run_python",
        "destructive",
        DENY,
        mode="dont_ask",
        allow=("run_python",),
    ),
    # the default allow rules: installed skills' tools and the user's memory
    C(
        "skill tool by default",
        "calculator__evaluate",
        "execute",
        ALLOW,
        allow=DEFAULT_ALLOW,
        sensitive=False,
    ),
    C("skill tool doing rm -rf", "shell__run", "destructive", ASK, allow=DEFAULT_ALLOW),
    C("memory by default", "memory_remember", "write", ALLOW, allow=DEFAULT_ALLOW, sensitive=False),
    C("workspace write still asks", "write_file", "write", ASK, allow=DEFAULT_ALLOW),
]


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.name)
def test_policy_matrix(case: Case) -> None:
    assert case.decide() is case.expected


def test_the_matrix_is_big_and_every_sensitive_call_is_paused_or_refused() -> None:
    assert len(MATRIX) >= 30
    sensitive = [c for c in MATRIX if c.sensitive]
    assert all(c.decide() in {ASK, DENY} for c in sensitive)
    assert {c.mode for c in MATRIX} == {m.value for m in Mode}


def test_risk_names_are_the_tool_registrys() -> None:
    assert tuple(str(r) for r in sorted(Risk)) == RISK_LEVELS


def test_reasons_name_the_rule_or_the_mode() -> None:
    policy = PermissionPolicy.from_config("dont_ask", deny=("run_python",))
    denied = policy.decide(PermissionRequest("run_python", {}, "read"))
    assert denied.reason == "deny rule 'run_python'"
    refused = policy.decide(PermissionRequest("write_file", {}, "write"))
    assert refused.reason == "risk write needs approval, and mode dont_ask asks nobody"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("run_python", Rule("run_python", "run_python")),
        ("  notes__* ", Rule("notes__*", "notes__*")),
        (
            "http_request(host=*.example.org)",
            Rule("http_request(host=*.example.org)", "http_request", (("host", "*.example.org"),)),
        ),
        (
            "sql_query(query=SELECT *, db=main)",
            Rule(
                "sql_query(query=SELECT *, db=main)",
                "sql_query",
                (("query", "SELECT *"), ("db", "main")),
            ),
        ),
    ],
)
def test_rules_parse(text: str, rule: Rule) -> None:
    assert parse_rule(text, setting="permissions.allow") == rule


@pytest.mark.parametrize(
    "text", ["", "run python", "tool()", "tool(host)", "tool(=x)", "a(b=c))", "t(x=1", "t((x=1))"]
)
def test_bad_rules_name_the_setting(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^permissions\.deny: "):
        parse_rule(text, setting="permissions.deny")


def test_a_bad_mode_names_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"permissions\.mode: 'yolo' is not one of default"):
        PermissionPolicy.from_config("yolo")


def test_argument_values_match_as_json_when_not_text() -> None:
    rule = parse_rule("t(limit=1*)", setting="x")
    assert rule.matches(PermissionRequest("t", {"limit": 10}, "read"))
    assert not rule.matches(PermissionRequest("t", {"limit": 20}, "read"))


def test_an_exact_ask_name_is_not_a_glob() -> None:
    policy = PermissionPolicy().with_ask(["notes__[x]"])
    assert policy.decide(PermissionRequest("notes__[x]", {}, "read")).verdict is ASK
    assert policy.decide(PermissionRequest("notes__x", {}, "read")).verdict is ALLOW


# -- through the turn machine -------------------------------------------------

PY = ToolDef("run_python", "Run Python", {"type": "object"})
READ = ToolDef("read_file", "Read a file", {"type": "object"})
RISKS = {"run_python": "execute", "read_file": "read"}


def guarded(mode: str, **rules: tuple[str, ...]) -> TurnPlan:
    return TurnPlan(
        system_prompt="s",
        history=(),
        user_text="go",
        tools=(PY, READ),
        permissions=PermissionPolicy.from_config(mode, **rules),
        risk_of=lambda call: RISKS.get(call.name, "unknown"),
    )


def run_calls(plan: TurnPlan, *calls: ToolCall) -> tuple[list[object], Finish]:
    """Ask for ``calls``, approve what asks, run what runs; the steps seen and the finish."""
    machine = TurnMachine(plan)
    seen: list[object] = [machine.start()]
    step = machine.send(ModelResult("", calls))
    while not isinstance(step, CallModel):
        seen.append(step)
        if isinstance(step, AskApproval):
            step = machine.send(ApprovalOutcome(approved=True))
        else:
            assert isinstance(step, RunTool)
            step = machine.send(ToolOutcome(step.call.id, ok=True, content="{}"))
    done = machine.send(ModelResult("done"))
    assert isinstance(done, Finish)
    return seen, done


def test_plan_mode_runs_no_tool_and_says_why() -> None:
    calls = (ToolCall("a", "read_file", {"path": "x"}), ToolCall("b", "run_python", {}))
    seen, done = run_calls(guarded("plan"), *calls)
    assert not [s for s in seen if isinstance(s, RunTool | AskApproval)]
    observations = [m.content for m in done.new_messages if m.tool_call_id]
    assert observations == [
        '{"error": "not allowed: plan mode runs no tools"}',
        '{"error": "not allowed: plan mode runs no tools"}',
    ]
    assert done.exit_status is ExitStatus.COMPLETED  # a plan is the whole answer


def test_a_refused_call_ends_the_run_denied() -> None:
    _, done = run_calls(guarded("default", deny=("run_python",)), ToolCall("a", "run_python", {}))
    assert done.exit_status is ExitStatus.DENIED


def test_risky_calls_ask_and_reads_run() -> None:
    calls = (ToolCall("a", "read_file", {}), ToolCall("b", "run_python", {}))
    seen, done = run_calls(guarded("default"), *calls)
    kinds = [(type(s).__name__, s.call.id) for s in seen if isinstance(s, RunTool | AskApproval)]
    assert kinds == [("RunTool", "a"), ("AskApproval", "b"), ("RunTool", "b")]
    assert done.exit_status is ExitStatus.COMPLETED
