"""LayerCake agent service; see README.md for what it consumes and produces."""
