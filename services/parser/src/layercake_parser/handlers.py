"""The parser's bus edge: CodeGenerated in, FilesWritten or FilesRejected out; parse questions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from layercake_contracts.events import CodeGenerated
from layercake_contracts.rpc import PARSE_SUBJECT, ParseQuestion, answer_questions
from layercake_parser.service import answer_parse, parse_generated

if TYPE_CHECKING:
    from layercake_contracts.runtime import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Subscribe the parser's handlers on `runtime`."""

    @runtime.subscribe(runtime.broker, CodeGenerated)
    async def on_code_generated(event: CodeGenerated) -> None:
        result = await parse_generated(event, await runtime.bus.blobs())
        await runtime.bus.publish(result)

    answer_questions(runtime.broker, PARSE_SUBJECT, ParseQuestion, answer_parse)
