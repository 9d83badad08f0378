"""`python -m layercake_git`: the same commands as the `layercake-git` script."""

from layercake_git.cli import app

app(prog_name="layercake-git")
