"""`python -m layercake_parser`: the same commands as the `layercake-parser` script."""

from layercake_parser.cli import app

app(prog_name="layercake-parser")
