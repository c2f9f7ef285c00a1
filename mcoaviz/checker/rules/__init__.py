"""Rule modules, one per family (see mcoaviz.checker.registry for the catalogue)."""
