"""LayerCake git service; see README.md for what it consumes and produces."""
