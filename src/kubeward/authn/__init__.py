"""Authentication: who sent this request. One module per credential source, composed in ``union``."""
