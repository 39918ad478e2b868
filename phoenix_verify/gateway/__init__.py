"""Gateway analysis: the NGINX contract derived from the inventory and the lint of real gateway files."""
