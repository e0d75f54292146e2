"""Package data: the Glia grammar (glia.lark)."""
