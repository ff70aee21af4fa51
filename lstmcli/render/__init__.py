"""The only code that turns results into Rich tables, JSON, PNG or HTML. Every function takes
a ``Console`` or a target path; nothing here computes a result.

Imports: every layer below."""
