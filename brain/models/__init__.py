"""Model providers behind one small interface (see ``brain.models.base``)."""

from __future__ import annotations

from brain.models.base import (
    Capabilities,
    ForceTool,
    Message,
    ModelChunk,
    ModelProvider,
    ModelRequest,
    ModelResult,
    Role,
    TextChunk,
    ToolCall,
    ToolChoice,
    ToolDef,
    Usage,
)
from brain.models.factory import ModelSpec, open_provider, parse_model_spec

__all__ = [
    "Capabilities",
    "ForceTool",
    "Message",
    "ModelChunk",
    "ModelProvider",
    "ModelRequest",
    "ModelResult",
    "ModelSpec",
    "Role",
    "TextChunk",
    "ToolCall",
    "ToolChoice",
    "ToolDef",
    "Usage",
    "open_provider",
    "parse_model_spec",
]
