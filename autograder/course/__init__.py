"""An assignment as authored: where its pieces live, its typed declaration, its points, its notebooks and their release."""
