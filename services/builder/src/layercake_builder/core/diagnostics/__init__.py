"""Parsers that turn what a tool printed, or the report it wrote, into diagnostics.

One module per tool family; every parser is a pure function of the text (and
the project root the tool ran in, to make paths relative). None of them reads
a file, runs a command or raises on bad input: what cannot be read is left out.
"""
