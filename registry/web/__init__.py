"""The marketplace pages: server-rendered HTML with every skill-supplied byte escaped."""
