"""`python -m layercake_gateway`: the same commands as the `layercake-gateway` script."""

from layercake_gateway.cli.service import app

app(prog_name="layercake-gateway")
