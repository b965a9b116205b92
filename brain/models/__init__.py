"""Model providers behind one small interface (see ``brain.models.base``).

``open_provider(settings)`` builds the configured chain (presets in
``brain.models.presets``); ``probe_chain(settings)`` reports what is
configured and reachable.
"""

from __future__ import annotations

from brain.models.base import (
    Capabilities,
    ForceTool,
    Message,
    ModelChunk,
    ModelProvider,
    ModelRequest,
    ModelResult,
    NativePayload,
    ResponseFormat,
    Role,
    Sampling,
    TextChunk,
    ToolCall,
    ToolChoice,
    ToolDef,
    Usage,
)
from brain.models.capabilities import Range, ReasoningChannel, SystemRule, ToolChoiceForm
from brain.models.factory import open_provider
from brain.models.presets import PROVIDER_ENV_VARS, ModelSpec, parse_model_spec
from brain.models.probe import ProviderReport, describe_chain, probe_chain

__all__ = [
    "PROVIDER_ENV_VARS",
    "Capabilities",
    "ForceTool",
    "Message",
    "ModelChunk",
    "ModelProvider",
    "ModelRequest",
    "ModelResult",
    "ModelSpec",
    "NativePayload",
    "ProviderReport",
    "Range",
    "ReasoningChannel",
    "ResponseFormat",
    "Role",
    "Sampling",
    "SystemRule",
    "TextChunk",
    "ToolCall",
    "ToolChoice",
    "ToolChoiceForm",
    "ToolDef",
    "Usage",
    "describe_chain",
    "open_provider",
    "parse_model_spec",
    "probe_chain",
]
