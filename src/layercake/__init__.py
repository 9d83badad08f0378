"""LayerCake: the umbrella distribution that gives the `layercake` command."""
