"""The LayerCake wire contract: event models, value types and bus conventions."""
