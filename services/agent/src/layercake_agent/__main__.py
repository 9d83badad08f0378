"""`python -m layercake_agent`: the same commands as the `layercake-agent` script."""

from layercake_agent.cli import app

app(prog_name="layercake-agent")
