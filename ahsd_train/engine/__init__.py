"""The engine room: model, loss, data and the generators (see LAYOUT.md)."""
