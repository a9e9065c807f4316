"""One module per platform (verify, translate) with its payload schema module beside it."""
