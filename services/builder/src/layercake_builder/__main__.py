"""`python -m layercake_builder`: the same commands as the `layercake-builder` script."""

from layercake_builder.cli import app

app(prog_name="layercake-builder")
