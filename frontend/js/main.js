// Wiring only: events to state to render.
