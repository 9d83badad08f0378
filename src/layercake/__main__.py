"""`python -m layercake`: the same command as `layercake`."""

from layercake.cli import main

main()
