"""Layer 1, input: YAML -> document with positions (`loader`), the one file writer and bounded
reader (`files`), which project and chain a command works on (`project`), suppression comments
(`suppression`). Imports only the foundation (`ahsd_config.errors`, `findings`, `values`)."""
