"""The ChatKit layer: the server that runs a turn, its store, one turn at a time per thread,
widget buttons and the widgets themselves, and failures put as assistant messages."""
